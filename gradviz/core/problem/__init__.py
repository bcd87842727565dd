"""The problem itself: its validated fields, its data (grid, kernel, sample)."""
