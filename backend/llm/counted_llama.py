"""llama-cpp-python's `Llama`, keeping the token counts of its latest call.

Imported only when the embedded model is loaded, as llama_cpp itself is.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from llama_cpp import Llama, llama_vocab_is_eog


class CountedLlama(Llama):
    """A `Llama` whose `usage()` is the latest call's, streamed or not.

    llama-cpp-python puts usage only in a non-streamed answer. Both paths of
    its `_create_completion` pass the prompt's tokens (the chat handler's
    template, tokenized with special tokens) to `generate` and keep each token
    it yields up to, not including, an end-of-generation one; the usage is the
    length of those two lists. Counting them here gives a stream the very
    numbers the same request gets unstreamed. Read it while still holding the
    lock the call ran under.
    """

    prompt_tokens = completion_tokens = 0

    def generate(self, tokens: Sequence[int], *args: Any, **kwargs: Any) -> Iterator[int]:
        # llama-cpp-python only iterates `generate`, never sends into it.
        self.prompt_tokens, self.completion_tokens = len(tokens), 0
        for token in super().generate(tokens, *args, **kwargs):
            if not llama_vocab_is_eog(self._model.vocab, token):
                self.completion_tokens += 1
            yield token

    def usage(self) -> dict[str, int]:
        """The latest call's usage, as OpenAI reports it."""
        total = self.prompt_tokens + self.completion_tokens
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens, "total_tokens": total}
