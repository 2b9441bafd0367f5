"""Trimming the history to the context never drops the newest question."""

from __future__ import annotations

from scripted import ScriptedBackend

from thau_tui.config import Config
from thau_tui.engine.agent import Agent, ChatSession
from thau_tui.engine.native_turn import fit_chat
from thau_tui.engine.prompt import drop_oldest_exchange
from thau_tui.tools import ToolRegistry

LONG = "Please summarise this. " + "lorem ipsum dolor sit amet " * 2000  # ~11,000 tokens


def agent_on(backend) -> Agent:
    config = Config()
    config.generation.max_tokens = 256
    return Agent(config, ToolRegistry(), backend=backend)


def test_after_an_over_long_question_the_next_question_reaches_the_model(real_backend):
    agent = agent_on(real_backend)
    session = ChatSession(
        "s", messages=[{"role": "user", "content": LONG}, {"role": "user", "content": "What is the capital of France?"}]
    )
    prompt = agent.render_prompt(session)
    assert "What is the capital of France?" in prompt and "lorem ipsum" not in prompt
    assert real_backend.count_tokens(prompt) <= real_backend.n_ctx - 256


def test_trimming_drops_whole_exchanges_oldest_first(real_backend):
    agent = agent_on(real_backend)
    old = [
        {"role": "user", "content": LONG},
        {"role": "assistant", "content": "Done."},
        {"role": "tool", "content": "a stray tool result"},
        {"role": "assistant", "content": "Anything else?"},
    ]
    recent = [
        {"role": "user", "content": "Name a colour."},
        {"role": "assistant", "content": "Blue."},
        {"role": "user", "content": "Another one?"},
    ]
    prompt = agent.render_prompt(ChatSession("s", messages=old + recent))
    assert "lorem ipsum" not in prompt and "a stray tool result" not in prompt and "Anything else?" not in prompt
    assert "Name a colour." in prompt and "Blue." in prompt and "Another one?" in prompt


def test_the_newest_question_stays_even_when_it_alone_is_too_long():
    backend = ScriptedBackend([])
    backend.n_ctx = 512
    session = ChatSession(
        "s",
        messages=[
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "hey"},
            {"role": "user", "content": LONG},
        ],
    )
    prompt = agent_on(backend).render_prompt(session)
    assert LONG in prompt and "hey" not in prompt  # too long: the backend says so, with the question in it


def test_drop_oldest_exchange():
    u, a, t = ({"role": r, "content": r} for r in ("user", "assistant", "tool"))
    assert drop_oldest_exchange([u, u]) == [u]
    assert drop_oldest_exchange([u, a, t, a, u, a]) == [u, a]
    assert drop_oldest_exchange([t, a, u]) == [u]
    assert drop_oldest_exchange([u, a, t, a]) is None
    assert drop_oldest_exchange([u]) is None and drop_oldest_exchange([]) is None


def test_a_long_chat_moves_its_cut_rarely_so_the_cache_keeps_serving_the_prefix():
    # Issue 17: past the context, dropping one exchange per turn changed the prompt's start
    # every turn, so each turn re-read ~1,600 tokens instead of ~23 (60x slower).
    backend = ScriptedBackend([])
    backend.n_ctx = 2048
    agent = agent_on(backend)
    session = ChatSession("s")
    cuts, reused, turns_past_limit, previous = [], 0, 0, None
    for turn in range(200):
        session.messages.append({"role": "user", "content": f"Question number {turn}: what comes next?"})
        start = session.view_start
        prompt = agent.render_prompt(session)
        assert f"Question number {turn}:" in prompt  # the newest question is always there
        assert backend.count_tokens(prompt) <= backend.n_ctx - 256
        if session.view_start != start:
            cuts.append(turn)
        if start:
            turns_past_limit += 1
            # What the model saw last turn is the start of this prompt (up to its open assistant turn).
            reused += previous is not None and prompt.startswith(previous.rsplit("<|im_start|>assistant", 1)[0])
        previous = prompt
        session.messages.append({"role": "assistant", "content": f"Answer number {turn}, in a few words."})
    assert cuts and len(cuts) <= 200 // 10  # a cut every ten turns or fewer, not every turn
    assert reused >= 0.85 * turns_past_limit
    assert len(session.messages) == 400  # the chat keeps everything


async def test_the_user_is_told_when_old_messages_leave_the_models_view():
    from thau_tui.engine.events import HistoryTrimmed, TurnDone

    backend = ScriptedBackend(["Sure."] * 3)
    backend.n_ctx = 700
    agent = agent_on(backend)
    session = agent.new_session()
    session.messages.extend([{"role": "user", "content": "word " * 150}, {"role": "assistant", "content": "ok"}] * 2)
    events = [e async for e in agent.run_turn(session, "And now?")]
    trimmed = [e for e in events if isinstance(e, HistoryTrimmed)]
    assert len(trimmed) == 1 and trimmed[0].dropped >= 2 and isinstance(events[-1], TurnDone)
    assert len(session.messages) >= 6  # nothing was deleted, only hidden from the model


def test_a_result_too_long_for_the_context_is_cut_in_the_prompt_and_kept_in_the_chat(real_backend):
    """read_file of a 15 KB file with the default 4096-token context: the result alone
    overflowed, trimming keeps the newest exchange, so the turn ended before the model
    could answer ("no longer fits the context; start a new chat"). The prompt now keeps
    the result's head and tail and says how much was cut; the chat keeps all of it."""
    agent = agent_on(real_backend)
    agent.config.generation.max_tokens = 768
    big = "HEAD-MARK\n" + "".join(f"line {n}: some code here = value_{n}\n" for n in range(450)) + "TAIL-MARK\n"
    assert real_backend.count_tokens(big) > real_backend.n_ctx
    messages = [
        {"role": "user", "content": "Read big.py and tell me what it does."},
        {
            "role": "assistant",
            "content": '<tool_call>{"name": "read_file", "arguments": {"path": "big.py"}}</tool_call>',
        },
        {"role": "tool", "content": big},
    ]
    session = ChatSession("s", messages=messages)
    prompt = agent.render_prompt(session)
    assert real_backend.count_tokens(prompt) <= real_backend.n_ctx - 768
    assert "HEAD-MARK" in prompt and "TAIL-MARK" in prompt and "cut to fit the context" in prompt
    assert "Read big.py" in prompt
    assert session.messages[2]["content"] == big


def test_the_native_path_cuts_a_result_too_long_for_the_context_too(real_backend):
    """The same read_file on the native path (a server with a tools field): the request held
    the whole result and the server refused it. Its head and tail go, the chat keeps it all."""
    big = "HEAD-MARK\n" + "".join(f"line {n}: some code here = value_{n}\n" for n in range(450)) + "TAIL-MARK\n"
    call = {"id": "call_1", "name": "read_file", "arguments": '{"path": "big.py"}'}
    messages = [
        {"role": "user", "content": "Read big.py and tell me what it does.", "meta": {}},
        {"role": "assistant", "content": "", "meta": {"tool_calls": [call]}},
        {"role": "tool", "content": big, "meta": {"tool_call_id": "call_1", "tool": "read_file"}},
    ]
    budget = real_backend.n_ctx - 768
    chat, start, size = fit_chat(real_backend, "You are helpful.", messages, 0, budget, [], 0.75)
    assert size <= budget and start == 0
    result = next(m for m in chat if m["role"] == "tool")
    assert result["tool_call_id"] == "call_1"
    assert "HEAD-MARK" in result["content"] and "TAIL-MARK" in result["content"]
    assert "cut to fit the context" in result["content"]
    assert chat[1]["content"].startswith("Read big.py") and messages[2]["content"] == big


async def test_a_first_message_too_long_for_the_context_says_to_shorten_it(real_backend):
    """A 19 KB first message said "start a new chat (/new)": it was a new chat. The error now
    says the message itself is too long, and the next question is answered (helper's UX review)."""
    from thau_tui.engine.events import Error, TurnDone

    agent = agent_on(real_backend)
    session = agent.new_session()
    events = [event async for event in agent.run_turn(session, "word " * 5000)]
    errors = [e.message for e in events if isinstance(e, Error)]
    assert errors and "your message is too long" in errors[0] and f"holds {real_backend.n_ctx}" in errors[0]
    assert "/new" not in errors[0] and isinstance(events[-1], TurnDone)


def test_dropping_exchanges_by_halving_gives_what_the_one_by_one_loop_gave():
    """Reopened, a chat of 1,000 exchanges rendered and counted its whole prompt once per
    dropped exchange before the first answer: 266 s, and Esc could not stop it (reliability
    review). The cut is now found by halving: the same cut, about log2(n) renders."""
    import random

    from thau_tui.engine.prompt import drop_oldest_exchanges

    rng = random.Random(3)
    for _ in range(300):
        history = [{"role": rng.choice(["user", "assistant", "tool"]), "content": "x" * rng.randint(1, 40)}]
        history += [
            {"role": rng.choice(["user", "user", "assistant", "tool"]), "content": "x" * rng.randint(1, 40)}
            for _ in range(rng.randint(0, 60))
        ]
        target = rng.randint(0, 900)
        calls: list[int] = []

        def measure(h, calls=calls):
            calls.append(1)
            return len(h), sum(len(m["content"]) for m in h)

        expected = history
        while sum(len(m["content"]) for m in expected) > target:
            shorter = drop_oldest_exchange(expected)
            if shorter is None:
                break
            expected = shorter
        kept, made, size = drop_oldest_exchanges(history, measure, target)
        assert kept == expected and made == len(expected) and size == sum(len(m["content"]) for m in expected)
        users = sum(1 for m in history[1:] if m["role"] == "user")
        assert len(calls) <= 2 + max(1, users).bit_length()


def test_a_reopened_chat_of_a_thousand_exchanges_renders_its_first_prompt_in_a_few_renders(real_backend):
    agent = agent_on(real_backend)
    messages = []
    for n in range(1000):
        messages += [
            {"role": "user", "content": f"question number {n}: what is {n} squared?"},
            {"role": "assistant", "content": f"{n} squared is {n * n}."},
        ]
    session = ChatSession("s", messages=messages)
    counted = []
    count = real_backend.count_tokens
    real_backend.count_tokens = lambda text: (counted.append(1), count(text))[1]
    try:
        prompt = agent.render_prompt(session)
    finally:
        del real_backend.count_tokens
    assert "question number 999" in prompt and "question number 0:" not in prompt
    assert real_backend.count_tokens(prompt) <= real_backend.n_ctx - 256
    assert len(counted) <= 16  # one per drop, 1,000 of them, before


def test_an_exchange_that_outgrew_the_context_by_its_results_is_not_called_a_long_message():
    """The advice said "your message is too long" when the question was short and the calls'
    results since it filled the context: it names the exchange, and what to do."""
    from thau_tui.engine.backend import ContextFull
    from thau_tui.engine.prompt import context_full

    question = [{"role": "user", "content": "Read every file here and sum them up.", "meta": {}}]
    after = [
        {"role": "assistant", "content": "<tool_call>{}</tool_call>", "meta": {}},
        {"role": "tool", "content": "x" * 9000, "meta": {}},
    ]
    error = ContextFull(5000, 4096)
    alone = context_full(error, question, 0)
    assert "your message is too long" in alone and "holds 4096" in alone
    grown = context_full(error, question + after, 0)
    assert "your message is too long" not in grown
    assert "this exchange no longer fits" in grown and "5000 tokens" in grown and "model.n_ctx" in grown
    earlier = [{"role": "user", "content": "hi", "meta": {}}, {"role": "assistant", "content": "hello", "meta": {}}]
    assert context_full(error, earlier + question, 0) == str(error)  # older exchanges still in view: as it was


def _with_big_result_after_a_name() -> ChatSession:
    return ChatSession(
        "s",
        messages=[
            {"role": "user", "content": "My name is Ada, remember it."},
            {"role": "assistant", "content": "Noted, Ada."},
            {"role": "user", "content": "read the big file"},
            {
                "role": "assistant",
                "content": '<tool_call>{"name": "read_file", "arguments": {"path": "big"}}</tool_call>',
            },
            {"role": "tool", "content": "<tool_response>\n" + "line\n" * 20_000 + "</tool_response>"},
        ],
    )


def test_a_result_over_half_the_room_is_cut_before_the_conversation_goes(real_backend):
    """One 100 KB result made the oldest exchanges make way first: the user's name went, then
    the result was cut anyway, so it fitted with room to spare (read-through review)."""
    agent = agent_on(real_backend)
    session = _with_big_result_after_a_name()
    prompt = agent.render_prompt(session)
    assert "My name is Ada" in prompt and session.view_start == 0
    assert real_backend.count_tokens(prompt) <= real_backend.n_ctx - 256
    chat, start, size = fit_chat(real_backend, "system", session.messages, 0, real_backend.n_ctx - 256, [], 0.6)
    assert start == 0 and any("My name is Ada" in m["content"] for m in chat)


def test_a_cut_result_reads_the_same_on_the_next_turn(real_backend):
    """A big result was cut only as far as the whole prompt needed: with older exchanges
    before it, to about 1,060 tokens; the next turn, those exchanges gone, to about 2,050. The
    model's copy changed after the fact and the whole prompt was read again, 42 s before the
    first word (long-chat review). Its cut now depends on the result and the room alone."""
    import re

    agent = agent_on(real_backend)
    older = []
    for n in range(6):
        older += [
            {"role": "user", "content": f"Note {n}: " + "lorem ipsum dolor " * 200},
            {"role": "assistant", "content": "Noted."},
        ]
    result = "".join(f"row {n:05d} of the output\n" for n in range(700))  # a little over half the room
    assert real_backend.count_tokens(result) > (real_backend.n_ctx - 256) // 2
    call = '<tool_call>{"name": "run_shell", "arguments": {"command": "seq"}}</tool_call>'
    messages = [
        *older,
        {"role": "user", "content": "run seq"},
        {"role": "assistant", "content": call},
        {"role": "tool", "content": "<tool_response>\n" + result + "</tool_response>"},
    ]
    session = ChatSession("s", messages=messages)
    first = agent.render_prompt(session)
    session.messages += [{"role": "assistant", "content": "It printed rows."}, {"role": "user", "content": "And then?"}]
    second = agent.render_prompt(session)

    def rows(prompt: str) -> list[str]:
        return re.findall(r"row \d{5} of the output|\[\.\.\. \d+ characters of this result cut", prompt)

    assert rows(first) and rows(first) == rows(second)
    assert real_backend.count_tokens(second) <= real_backend.n_ctx - 256


def test_a_result_just_over_half_the_room_loses_only_what_it_must(real_backend):
    """A result at 54% of the room, in a chat where all of it fitted, was halved: 94 of its
    190 rows reached the model. And a result short in characters but dense in tokens passed
    whole, over half the room, since only the longest by characters was looked at (diff
    review). Each is now cut to just under half the room by its tokens."""
    import re

    agent = agent_on(real_backend)
    half = (real_backend.n_ctx - 256) // 2
    rows = "".join(f"row {n:05d} of the output\n" for n in range(190))
    assert half < real_backend.count_tokens(rows) < half * 1.2
    call = '<tool_call>{"name": "run_shell", "arguments": {"command": "seq"}}</tool_call>'
    session = ChatSession(
        "s", messages=[{"role": "user", "content": "run seq"}, {"role": "assistant", "content": call}]
    )
    session.messages.append({"role": "tool", "content": rows})
    kept = len(re.findall(r"row \d{5} of the output", agent.render_prompt(session)))
    assert 150 <= kept < 190, kept
    dense = "漢字仮名交じり文" * 160  # 1,280 characters, over 2,000 tokens
    assert real_backend.count_tokens(dense) > half and len(dense) < len("the " * 400)
    session.messages[-1] = {"role": "tool", "content": dense}
    session.messages += [{"role": "user", "content": "and this"}, {"role": "tool", "content": "the " * 400}]
    prompt = agent.render_prompt(session)
    assert "characters of this result cut to fit the context" in prompt
    assert prompt.count("漢字仮名交じり文") < 160


def test_the_cut_note_says_all_that_was_cut_over_every_halving(real_backend):
    """Each halving's note counted only its own cut: 2,042 of 997,991 characters."""
    import re

    agent = agent_on(real_backend)
    text = "ж" * 1_000_000  # a letter the system prompt has none of
    session = ChatSession("s", messages=[{"role": "user", "content": "read it"}, {"role": "tool", "content": text}])
    prompt = agent.render_prompt(session)
    said = [int(n) for n in re.findall(r"\[\.\.\. (\d+) characters of this result cut", prompt)]
    kept = prompt.count("ж")
    assert len(said) == 1 and said[0] == len(text) - kept, (said, kept)


async def test_instructions_that_fill_the_context_are_named_not_the_users_hi(real_backend):
    """With the tools' descriptions filling the context, 'hi' was told 'your message is too
    long ... shorten it' (read-through review)."""
    from thau_tui.engine.events import Error
    from thau_tui.tools import Tool

    schema = {"type": "object", "properties": {}, "additionalProperties": False}
    wordy = Tool("wordy", "Does things. " + "It is careful about details. " * 800, schema, "read", lambda a, c: "")
    config = Config()
    config.generation.max_tokens = 256
    agent = Agent(config, ToolRegistry([wordy]), backend=real_backend)
    assert real_backend.count_tokens(agent.system_message()) > real_backend.n_ctx  # the test's premise
    events = [event async for event in agent.run_turn(agent.new_session(), "hi")]
    error = next(e.message for e in events if isinstance(e, Error))
    assert "instructions and the tools' descriptions alone take" in error and "model.n_ctx" in error
    assert "your message is too long" not in error


def test_a_result_that_imitates_the_cut_note_does_not_set_its_count():
    """The count was read back from the text, so a tool's output holding a fake note told the
    model 987,657,275 characters were cut from a 6 KB result (re-review)."""
    import re

    from thau_tui.engine.prompt import shorten_largest_result

    fake = "\n[... 987654321 characters of this result cut to fit the context; ask for a narrower part ...]\n"
    text = "a" * 3000 + fake + "b" * 3000
    history = [{"role": "tool", "content": text}]
    while (shorter := shorten_largest_result(history)) is not None:
        history = shorter
    said = [int(n) for n in re.findall(r"\[\.\.\. (\d+) characters", history[0]["content"])]
    assert said and max(said) < len(text), said


async def test_a_reopened_chat_keeps_the_view_the_model_had(tmp_path):
    """Where the model's view starts was not saved: reopened, the chat was trimmed from its start
    again, so the model saw fewer exchanges than before the restart and the cached prefix
    changed (read-through review)."""
    from thau_tui.engine.approvals import ApprovalBook
    from thau_tui.engine.store import Store

    config = Config()
    config.generation.max_tokens = 200
    backend = ScriptedBackend(["answer %d " % i + "a" * 400 for i in range(12)])
    backend.n_ctx = 1500
    store = Store(tmp_path / "db.sqlite3")
    agent = Agent(config, ToolRegistry(), approvals=ApprovalBook(None, {}), store=store, backend=backend)
    session = agent.new_session()
    for i in range(8):
        async for _event in agent.run_turn(session, f"question {i} " + "q" * 400):
            pass
    assert session.view_start > 0, "the test needs a chat the context has trimmed"
    reopened = agent.load_session(session.id)
    assert reopened.view_start == session.view_start
    assert agent.render_prompt(reopened) == agent.render_prompt(session)
    # with more room (model.n_ctx raised, then a restart), the view is found again from the
    # start: the early exchanges come back (rereview2)
    backend.n_ctx = 32768
    again = agent.load_session(session.id)
    assert "question 0" in agent.render_prompt(again) and again.view_start == 0


async def test_a_message_too_long_alone_is_refused_and_the_model_keeps_the_chat(real_backend, tmp_path):
    """A 31 KB paste in a chat of 7 messages pushed all 7 out of the model's view for good,
    and was then refused anyway: the next "hi" was answered without them (UX review). Such
    a message is refused before it joins the chat; the view and the store are unchanged."""
    from thau_tui.engine.events import HistoryTrimmed, MessageRefused, TurnDone
    from thau_tui.engine.store import Store

    config = Config()
    config.generation.max_tokens = 8
    config.generation.temperature = 0.0
    agent = Agent(config, ToolRegistry(), store=Store(tmp_path / "db"), backend=real_backend)
    session = agent.new_session()
    [event async for event in agent.run_turn(session, "My cat is called Pimento. Say ok.")]
    before, start = list(session.messages), session.view_start
    events = [event async for event in agent.run_turn(session, LONG)]
    refused = [e for e in events if isinstance(e, MessageRefused)]
    assert refused and refused[0].text == LONG and "your message is too long" in refused[0].message
    assert "It was not sent" in refused[0].message and isinstance(events[-1], TurnDone)
    assert session.messages == before and session.view_start == start
    assert [m["content"] for m in agent.store.messages(session.id)] == [m["content"] for m in before]
    events = [event async for event in agent.run_turn(session, "What is my cat called?")]
    assert not [e for e in events if isinstance(e, HistoryTrimmed)]
    assert "Pimento" in agent.render_prompt(session)


async def test_a_long_message_that_fits_is_sent_as_before(real_backend):
    """The check counts tokens only when the bytes alone could overflow, and lets through what fits."""
    from thau_tui.engine.events import MessageRefused

    agent = agent_on(real_backend)
    room = real_backend.n_ctx - 256 - agent._system_tokens()
    text = "word " * (room // 2)  # one token a word here, and more bytes than the room: counted
    assert len(text.encode()) > room
    events = [event async for event in agent.run_turn(agent.new_session(), text)]
    assert not [e for e in events if isinstance(e, MessageRefused)]
