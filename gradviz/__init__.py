"""gradviz: a desktop precision lab for TensorFlow gradients.

Kept import-light on purpose: neither TensorFlow nor Qt is imported here, so
``gradviz --help`` and the core's numpy-only parts start instantly.
"""

__version__ = "0.1.0"
