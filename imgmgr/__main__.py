"""``python -m imgmgr``: the same as the ``imgmgr`` command."""

from imgmgr.cli import app

app(prog_name="imgmgr")
