"""Pure numerics, in four layers by role (each imports only those below it):

- ``problem``: the validated problem and its data (grid, kernel, sample);
- ``numerics``: the TensorFlow gradient paths, the ball-arithmetic reference, their records;
- ``analysis``: digits, conditioning, verdicts, sweeps and the answer in words;
- ``io``: sessions, presets, reports, exports and safe file writes.

Never imports PyQt6 or pyqtgraph (checked by import-linter); only
``gradviz.core.numerics.paths`` imports TensorFlow, and only when it is first used.
"""
