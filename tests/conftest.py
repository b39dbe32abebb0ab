import os
import sys

# Tests import bench/ helpers (synthetic KBs, the crash engine) as the package `bench`.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
