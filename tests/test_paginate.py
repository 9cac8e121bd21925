"""The resolvers' pagination helper, against a fake paged API (moto answers in one page)."""

from resolvers import paginate


def test_paginate_follows_the_token_until_the_last_page():
    pages = {
        None: {"Items": [1, 2], "Next": "b"},
        "b": {"Items": [3], "Next": "c"},
        "c": {"Items": []},
    }
    calls = []

    def call(service, command, kwargs):
        calls.append((service, command, dict(kwargs)))
        return pages[kwargs.get("Next")]

    found = paginate(call, "svc", "list_things", {"Filter": "x"}, "Items", "Next")

    assert found == [1, 2, 3]
    assert [kwargs for _, _, kwargs in calls] == [
        {"Filter": "x"},
        {"Filter": "x", "Next": "b"},
        {"Filter": "x", "Next": "c"},
    ]
