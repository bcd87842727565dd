"""Files in and out: sessions, presets, reports, curve and sweep exports, safe writes."""
