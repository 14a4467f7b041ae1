"""How a /v1 request's messages become the conversation it is filed under (a pure function)."""

from __future__ import annotations

from gateway.services import GatewayTurns, gateway_turns_split


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


def assistant(text: str) -> dict[str, str]:
    return {"role": "assistant", "content": text}


def test_one_question_is_asked_and_answered():
    assert gateway_turns_split([user("hi")]) == GatewayTurns(system_prompt="", asked=[user("hi")], after=[])


def test_system_and_developer_messages_join_into_the_system_prompt_in_order():
    turns = gateway_turns_split(
        [{"role": "system", "content": "Be brief."}, user("hi"), {"role": "developer", "content": "In Korean."}]
    )
    assert turns.system_prompt == "Be brief.\n\nIn Korean."
    assert turns.asked == [user("hi")]


def test_the_call_answers_the_last_user_message_with_the_history_before_it():
    turns = gateway_turns_split([user("one"), assistant("1"), user("two")])
    assert turns.asked == [user("one"), assistant("1"), user("two")]
    assert turns.after == []


def test_assistant_turns_after_the_last_question_are_stored_after_it():
    turns = gateway_turns_split([user("one"), assistant("Sure, here"), assistant("is more")])
    assert turns.asked == [user("one")]
    assert turns.after == [assistant("Sure, here"), assistant("is more")]


def test_the_input_is_left_as_it_was():
    messages = [{"role": "system", "content": "s"}, user("q"), assistant("a")]
    before = [dict(m) for m in messages]
    gateway_turns_split(messages)
    assert messages == before
