"""Pure numerics: problem, data, gradient paths, reference, diagnosis.

Never imports PyQt6 or pyqtgraph (checked by import-linter); only
``gradviz.core.paths`` imports TensorFlow, and only when it is first used.
"""
