"""Numbers: the TensorFlow gradient paths, the ball-arithmetic reference, the records they fill."""
