"""A question's HTML (app/quizzes/paper_html.py, the paper page and the preview): what a
cadre sees and what the browser would submit, read back with an HTML parser, for every kind
of question and of saved answer (none, some, twice, unknown, text that needs escaping)."""

from __future__ import annotations

from html.parser import HTMLParser

from app.quizzes.paper_html import question_fragments, question_html

ITEMS = [
    {
        "position": 1,
        "type": "single",
        "stem": "工会的<基本>职责是“维护”职工的 & 合法权益？",
        "options": ("维护职工合法权益", 'A "quoted" <b>option</b>', "C's", "竭诚服务职工群众"),
    },
    {
        "position": 2,
        "type": "multiple",
        "stem": "下列哪些属于工会的任务？",
        "options": ("组织职工", "教育职工", "服务职工", 'value="B"', "代表职工"),
    },
    {"position": 3, "type": "true_false", "stem": "工会是职工自愿结合的群众组织。", "options": ()},
    {
        "position": 14,
        "type": "fill_blank",
        "stem": "中国工会是中国共产党领导的______自愿结合的______群众组织。",
        "options": (),
    },
]

RESPONSES = {
    "single": [(), ("A",), ("B",), ("D",), ("Z",), ("B", "B")],
    "multiple": [(), ("A",), ("A", "C", "E"), ("B", "D"), ("E", "A", "A")],
    "true_false": [(), ("对",), ("错",)],
    "fill_blank": [
        (),
        ("职工",),
        ("职工", "工人阶级"),
        ('<script>alert("x")</script>', "a & b 'c'"),
        ("", "第二空"),
        ('maxlength="200" autocomplete="off" value=""', "x"),
    ],
}


class Page(HTMLParser):
    """The inputs (name, value, checked, disabled) and the visible text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.inputs: list[dict[str, str | None]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "input":
            self.inputs.append(dict(attrs))
        if tag == "script":
            raise AssertionError("a script tag reached the page")

    def handle_data(self, data):
        self.text.append(data)


def _checked(page: Page) -> list[str]:
    return [i["value"] for i in page.inputs if "checked" in i]


def test_saved_choices_are_checked_and_nothing_else():
    for item in ITEMS[:3]:
        for response in RESPONSES[item["type"]]:
            page = Page(question_html(item, response))
            values = [i["value"] for i in page.inputs]
            assert all(i["name"] == f"q{item['position']}" for i in page.inputs)
            assert _checked(page) == [v for v in values if v in response], response
            assert not any("disabled" in i for i in page.inputs)
    options = Page(question_html(ITEMS[0]))
    assert [i["value"] for i in options.inputs] == ["A", "B", "C", "D"]
    assert [i["type"] for i in Page(question_html(ITEMS[1])).inputs] == ["checkbox"] * 5
    assert [i["value"] for i in Page(question_html(ITEMS[2])).inputs] == ["对", "错"]


def test_blank_texts_come_back_as_typed_and_escaped():
    item = ITEMS[3]
    for response in RESPONSES["fill_blank"]:
        page = Page(question_html(item, response))
        assert [i["value"] for i in page.inputs] == [
            response[n] if n < len(response) else "" for n in range(2)
        ]
        assert "（1）" in "".join(page.text) and "（2）" in "".join(page.text)


def test_stems_and_options_are_text_never_markup():
    text = "".join(Page(question_html(ITEMS[0], ("B",))).text)
    assert "工会的<基本>职责是“维护”职工的 & 合法权益？" in text
    assert 'A "quoted" <b>option</b>' in text and "C's" in text
    assert "【单选题】" in text and "1." in text


def test_a_locked_question_disables_every_input():
    for item in ITEMS:
        page = Page(question_html(item, RESPONSES[item["type"]][1], locked=True))
        assert page.inputs and all("disabled" in i for i in page.inputs)


def test_each_answer_stays_with_its_question_on_a_page():
    responses = {1: ("C",), 2: ("A", "E"), 3: ("错",), 14: ("秘密文本", "")}
    fragments = question_fragments(ITEMS, responses)
    assert [_checked(Page(f)) for f in fragments[:3]] == [["C"], ["A", "E"], ["错"]]
    assert sum("秘密文本" in str(f) for f in fragments) == 1
    assert question_fragments(ITEMS, {}) == [question_html(item) for item in ITEMS]
