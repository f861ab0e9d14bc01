"""Puts rotation/ on sys.path as Lambda does (the folder root), so its modules import by top-level name.

rotation/ is the function's whole package and imports nothing else of this repository; tests import
its modules the same way the Lambda runtime does: `import handler`, `import adapters`, ...
"""

import sys
from pathlib import Path

ROTATION_DIR = Path(__file__).resolve().parents[2] / "rotation"

if str(ROTATION_DIR) not in sys.path:
    sys.path.insert(0, str(ROTATION_DIR))
