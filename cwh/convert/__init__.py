"""Convert DISA's Windows Server STIG (XCCDF) into rule data the catalog and the judges read.

docs/stig-rules.md defines the data. `convert_file` converts one benchmark; `python -m
cwh.convert FILE...` prints the conversion report and can write the release files.
"""

from cwh.convert.release import convert_benchmark, convert_file, dumps, file_name
from cwh.convert.rules import convert_rule

__all__ = ["convert_benchmark", "convert_file", "convert_rule", "dumps", "file_name"]
