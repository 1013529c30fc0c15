"""cwh.user_yaml: YAML people write, read without bombs, endless structures, tracebacks or the
file's text in any message."""

from __future__ import annotations

import datetime as dt
import resource
import subprocess
import sys
import textwrap
import time

import pytest
import yaml

from cwh.errors import ConfigError
from cwh.user_yaml import ALIAS_ALLOWANCE, MAX_ALIAS_GROWTH, expanded_sizes, load_user_yaml


def bomb(levels: int, width: int = 9, key: str = "cwh_approved_admins") -> str:
    """Billion laughs: `width ** levels` values from a few lines."""
    lines = ["all:", "  vars:", f"    l0: &l0 [{', '.join(['lol'] * width)}]"]
    for i in range(1, levels):
        lines.append(f"    l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]")
    lines.append(f"    {key}: [{', '.join([f'*l{levels - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


def test_plain_documents_load_as_safe_load_does() -> None:
    text = "a: [1, two, {c: null}]\nwhen: 2026-11-02\nport: {445: 10445}\n"
    assert load_user_yaml(text) == yaml.safe_load(text)


def test_anchors_and_merge_keys_within_bounds_still_work() -> None:
    text = textwrap.dedent("""\
        defaults: &defaults {ansible_port: 5986, ansible_user: auditor}
        hosts:
          a: {<<: *defaults, ansible_host: 10.0.0.1}
          b: {<<: *defaults, ansible_port: 5985}
        """)
    data = load_user_yaml(text)
    assert data["hosts"]["a"] == {"ansible_port": 5986, "ansible_user": "auditor",
                                  "ansible_host": "10.0.0.1"}
    assert data["hosts"]["b"]["ansible_port"] == 5985


def test_a_large_inventory_of_merge_keys_is_no_bomb() -> None:
    hosts = "\n".join(f"  h{i}: {{<<: *d, ansible_host: 10.0.{i // 250}.{i % 250}}}"
                      for i in range(3000))
    text = "d: &d {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8}\nhosts:\n" + hosts + "\n"
    assert len(load_user_yaml(text)["hosts"]) == 3000


def test_an_alias_bomb_is_refused_before_it_is_built() -> None:
    started = time.monotonic()
    with pytest.raises(ConfigError) as caught:
        load_user_yaml(bomb(10))  # 9 ** 11 values
    assert time.monotonic() - started < 2
    message = str(caught.value)
    assert message.startswith("line 13 (all > vars > cwh_approved_admins): YAML aliases expand ")
    assert "(an alias bomb?); refused" in message


def test_the_bound_is_growth_over_what_is_written() -> None:
    text = "a: &a [1, 2, 3, 4, 5]\nb: *a\nc: x\n"
    root = yaml.compose(text)
    sizes = expanded_sizes(root)
    # the mapping, 3 keys, the list and its 5 items, x: the alias is the list node itself
    assert len(sizes) == 1 + 3 + 6 + 1
    assert sizes[id(root)] == 1 + 3 + 6 + 6 + 1  # expanded, the list counts twice
    limit = MAX_ALIAS_GROWTH * len(sizes) + ALIAS_ALLOWANCE
    assert load_user_yaml(text)["b"] == [1, 2, 3, 4, 5]
    with pytest.raises(ConfigError):
        load_user_yaml(bomb(1, width=limit))  # one alias level, repeated past the bound


@pytest.mark.parametrize("text", ["a: &a [*a]\n", "a: &a {b: *a}\n", "x: &x [1, [2, *x]]\n"])
def test_a_structure_that_contains_itself_is_refused(text: str) -> None:
    with pytest.raises(ConfigError, match=r"^line 1: a YAML alias refers to a node that "
                                          "contains it"):
        load_user_yaml(text)


def test_an_impossible_date_stays_the_text_it_is() -> None:
    data = load_user_yaml("a: 2026-02-30\nb: 2026-02-28\nc: 2026-02-28 25:00:00\n")
    assert data == {"a": "2026-02-30", "b": dt.date(2026, 2, 28), "c": "2026-02-28 25:00:00"}
    assert load_user_yaml("a: !!timestamp 2026-13-01\n") == {"a": "2026-13-01"}


def test_deep_nesting_is_one_line() -> None:
    with pytest.raises(ConfigError, match="nested too deeply"):
        load_user_yaml("a: " + "[" * 20000 + "]" * 20000 + "\n")


@pytest.mark.parametrize("text, problem", [
    ("ansible_password: Hunter2-Secret: x\n", "line 1: not valid YAML (mapping values are not "
                                              "allowed here)"),
    ("a:\n  - Hunter2-Secret\n b: c\n", "line 3: not valid YAML"),
    ("a: !python/object:os.system Hunter2-Secret\n", "line 1: not valid YAML (could not "
                                                    "determine a constructor"),
    ("a: Hunter2-Secret\x00\n", "not valid YAML (special characters are not allowed)"),
    ("? [Hunter2-Secret]\n: x\n", "found unhashable key)"),
    ("a: 1\n---\nb: Hunter2-Secret\n",
     "not valid YAML (expected a single document in the stream, but found another"),
])
def test_syntax_errors_name_the_line_never_the_text(text: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_user_yaml(text)
    assert problem in str(caught.value)
    assert "Hunter2" not in str(caught.value)
    assert "\n" not in str(caught.value)


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (512 << 20, 512 << 20))


def test_a_bomb_stays_small_in_memory_and_time() -> None:
    """In a process of its own with 512 MB of address space: a bomb that would need terabytes
    is refused within seconds, its memory never grows."""
    program = ("import sys; from cwh.errors import ConfigError; from cwh.user_yaml import "
               "load_user_yaml\ntry:\n    load_user_yaml(sys.stdin.read())\nexcept ConfigError "
               "as exc:\n    print(exc)\n    sys.exit(4)\n")
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", program], input=bomb(14), capture_output=True,
                          text=True, timeout=30, preexec_fn=_limit_memory)
    assert done.returncode == 4, done.stderr[-2000:]
    assert "alias bomb" in done.stdout
    assert time.monotonic() - started < 15
