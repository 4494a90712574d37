"""YAML written by people (course files, plans, bank headers, quiz files), read so that only
a YAML error escapes (pure).

PyYAML's safe loader lets ValueError, IndexError, AttributeError or KeyError escape for a value
it recognises but can't build (`2023-13-45`, `!!int 0xZZ`, `!!float` with no value,
`!!timestamp x`, `!!bool maybe`), and RecursionError for `[` nested thousands deep. Here the
first is a `BadValue` and the second a `TooDeep`: both are `yaml.YAMLError`s that know their line.
`TooLarge` refuses aliases that repeat a value into millions of values ("billion laughs"):
loading them is quick, but printing or checking what they make takes minutes and gigabytes.
"""

from __future__ import annotations

import yaml
from yaml.constructor import ConstructorError
from yaml.error import Mark
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

__all__ = [
    "MAX_DEPTH",
    "MAX_VALUES",
    "BadValue",
    "SafeLoader",
    "TooDeep",
    "TooLarge",
    "TooMuch",
    "compose",
    "load",
    "value_of",
]

# Far more than any of our files needs, and far less than Python's recursion limit: composing
# one level takes a few stack frames.
MAX_DEPTH = 100
# Values (scalars, lists, mappings) a text stands for once every alias is written out in full.
MAX_VALUES = 100_000


class BadValue(ConstructorError):
    """A value PyYAML recognises but can't build, such as the date 2023-13-45; `problem` is
    the value as written (at most 30 characters)."""

    @property
    def line(self) -> int:
        """The value's line in the YAML text, from 1."""
        return self.problem_mark.line + 1

    @property
    def message(self) -> str:
        """What is wrong and how to mend it, in Chinese, without the line."""
        return (
            f"值“{self.problem}”无法识别（不是有效的日期、数字或 true/false），"
            "请改正或加引号写成文字。"
        )


class TooMuch(yaml.YAMLError):
    """A text past one of the guards: `message` says which, in Chinese, and `line` where."""

    message = ""

    def __init__(self, mark: Mark) -> None:
        self.mark = mark
        super().__init__(f"第 {self.line} 行：{self.message}")

    @property
    def line(self) -> int:
        """The line in the YAML text, from 1, where the guard stopped reading."""
        return self.mark.line + 1


class TooDeep(TooMuch):
    """Lists or mappings nested more than MAX_DEPTH levels deep."""

    message = "括号或缩进嵌套的层次太深。"


class TooLarge(TooMuch):
    """More than MAX_VALUES values, counting each alias (`*a`) as all the values it repeats."""

    message = f"内容太多：超过 {MAX_VALUES} 项（用别名“*”重复的内容也计在内）。"


class SafeLoader(yaml.SafeLoader):
    """PyYAML's safe loader, except that a value it can't build raises BadValue, nesting
    deeper than MAX_DEPTH raises TooDeep and aliases that stand for more than MAX_VALUES
    values raise TooLarge."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._values: dict[Node, int] = {}  # each node: the values it stands for, itself included

    def compose_node(self, parent: Node | None, index: object) -> Node | None:
        if self._depth >= MAX_DEPTH:
            raise TooDeep(self.peek_event().start_mark)
        self._depth += 1
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if node not in self._values:  # an alias gives back a node already counted
            children = node.value if isinstance(node, SequenceNode) else []
            if isinstance(node, MappingNode):
                children = [child for pair in node.value for child in pair]
            # A child not counted yet is an alias of a node that contains it: one value.
            self._values[node] = 1 + sum(self._values.get(child, 1) for child in children)
            if self._values[node] > MAX_VALUES:
                raise TooLarge(node.start_mark)
        return node

    def construct_object(self, node: Node, deep: bool = False) -> object:
        try:
            return super().construct_object(node, deep)
        except (ValueError, TypeError, AttributeError, LookupError, ArithmeticError) as error:
            shown = str(node.value)[:30] if isinstance(node, ScalarNode) else node.tag
            raise BadValue(None, None, shown, node.start_mark) from error


def load(text: str) -> object:
    """The data of a one-document YAML text, as `yaml.safe_load` gives it; raises only
    `yaml.YAMLError` (BadValue, TooDeep and TooLarge among them)."""
    return yaml.load(text, Loader=SafeLoader)


def compose(text: str) -> Node | None:
    """The node tree of a one-document YAML text (None when empty), for a reader that wants
    every value's line; raises only `yaml.YAMLError` (TooDeep and TooLarge among them)."""
    return yaml.compose(text, Loader=SafeLoader)


def value_of(node: Node) -> object:
    """What the safe loader builds of one node (a number, a boolean …); raises BadValue when
    it can't. A fresh loader each time, so nothing read is kept once the value is returned."""
    return SafeLoader("").construct_document(node)
