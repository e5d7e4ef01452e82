"""What the CLI tests share: the one-line error every command gives instead of a traceback."""

from __future__ import annotations


def one_line_error(result, *fragments: str) -> str:
    """The whole output is one `error: ...` line holding each fragment; exit code 2."""
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]
