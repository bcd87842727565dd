"""Test-wide settings that must exist before anything imports Qt or TensorFlow."""

import os

# No screen here or in CI: Qt renders offscreen. TensorFlow stays quiet.
os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
