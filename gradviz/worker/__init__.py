"""Background work for the GUI: one worker thread driving compute processes."""
