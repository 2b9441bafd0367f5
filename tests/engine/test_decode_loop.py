"""thau's decode loop (Llama.generate, constant work per token) against llama-cpp-python's
own create_completion, on the bundled model; and the text assembly it relies on."""

from __future__ import annotations

import pytest

from thau_tui.engine.backend import MODEL_THREAD, SamplingSettings, StreamStats, TextOut

PROMPTS = [
    "<|im_start|>user\nWrite a short list of three fruits.<|im_end|>\n<|im_start|>assistant\n",
    "<|im_start|>user\nSay hello in French, Japanese and Greek.<|im_end|>\n<|im_start|>assistant\n",
]


def library_text(backend, prompt: str, settings: SamplingSettings) -> tuple[str, str]:
    """What llama-cpp-python's create_completion streams for the same tokens and settings."""

    def run():
        backend.llm.reset()
        text, reason = "", None
        for chunk in backend.llm.create_completion(
            prompt=backend.tokenize(prompt),
            max_tokens=settings.max_tokens,
            temperature=settings.temperature,
            top_p=settings.top_p,
            top_k=settings.top_k,
            repeat_penalty=settings.repeat_penalty,
            stop=settings.stop or None,
            stream=True,
        ):
            text += chunk["choices"][0]["text"]
            reason = chunk["choices"][0].get("finish_reason") or reason
        return text, reason

    return MODEL_THREAD.call(run)


def thau_text(backend, prompt: str, settings: SamplingSettings) -> tuple[str, StreamStats]:
    backend.llm.reset()
    stats = StreamStats()
    return "".join(backend.stream(prompt, settings, stats)), stats


@pytest.mark.parametrize("prompt", PROMPTS, ids=["fruits", "greetings"])
def test_greedy_text_is_what_create_completion_gives(real_backend, prompt):
    settings = SamplingSettings(temperature=0.0, max_tokens=200)
    expected, reason = library_text(real_backend, prompt, settings)
    text, stats = thau_text(real_backend, prompt, settings)
    assert text == expected and len(text) > 20
    assert stats.finish_reason == reason
    if reason == "stop":  # ended on an end-of-turn token: every token counted was read into the cache
        assert real_backend.llm.n_tokens == len(real_backend.tokenize(prompt)) + stats.tokens


def test_max_tokens_and_stop_strings_end_the_text_as_create_completion_does(real_backend):
    prompt = PROMPTS[0]
    short = SamplingSettings(temperature=0.0, max_tokens=7)
    text, stats = thau_text(real_backend, prompt, short)
    assert stats.tokens == 7 and stats.finish_reason == "length"
    assert text == library_text(real_backend, prompt, short)[0]

    whole, _ = thau_text(real_backend, prompt, SamplingSettings(temperature=0.0, max_tokens=200))
    stop = whole.split()[3]  # a word from the middle of the answer
    settings = SamplingSettings(temperature=0.0, max_tokens=200, stop=[stop])
    text, stats = thau_text(real_backend, prompt, settings)
    assert text == whole[: whole.index(stop)] == library_text(real_backend, prompt, settings)[0]
    assert stats.finish_reason == "stop"


def test_sampled_text_is_reproducible_per_seed_and_varies_per_call(real_backend):
    from thau_tui.engine.backend import LlamaBackend

    warm = SamplingSettings(temperature=1.0, top_p=1.0, top_k=0, max_tokens=30)
    runs = []
    for _ in range(2):  # the same config seed in two sessions
        backend = LlamaBackend(real_backend.path, n_ctx=1024, seed=5)
        try:
            runs.append([thau_text(backend, PROMPTS[0], warm)[0] for _ in range(3)])
        finally:
            MODEL_THREAD.call(backend.llm.close)
    assert runs[0] == runs[1]  # reproducible per seed
    assert len(set(runs[0])) > 1  # but asking again gives another answer


def test_text_out_holds_back_split_characters_and_stop_string_starts():
    out = TextOut()
    data = "é日🙂".encode()
    pieces = [out.feed(data[i : i + 1]) for i in range(len(data))]  # one byte at a time
    assert "".join(pieces) == "é日🙂" and "" in pieces
    assert all(piece in ("", "é", "日", "🙂") for piece in pieces)  # never half a character

    out = TextOut(["<end>"])
    assert out.feed(b"Hello <e") == "Hello "  # "<e" may begin the stop string
    assert out.feed(b"xtra") == "<extra"  # it did not
    assert out.feed(b" done <en") == " done "
    assert out.feed(b"d> ignored") == "" and out.stopped
    assert out.flush() == ""

    out = TextOut(["<end>"])
    assert out.feed(b"tail <en") == "tail "
    assert out.flush() == "<en"  # generation ended first: the held text is text after all
