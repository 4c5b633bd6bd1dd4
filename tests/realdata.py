"""Where the shared real test data lives: ../shared/realdata beside the repository checkout (see its INDEX.md).

The data is never copied into the repository; tests read it from here.
"""

from pathlib import Path

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
