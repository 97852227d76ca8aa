import os
import sys

# TensorFlow's C++ start-up chatter buries the test output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Lets test modules share `helpers.py` without making tests/ a package.
sys.path.insert(0, os.path.dirname(__file__))
