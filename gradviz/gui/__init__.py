"""The Qt layer: the only package importing QtWidgets and pyqtgraph; it computes nothing."""
