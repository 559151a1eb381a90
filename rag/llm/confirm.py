"""Optional second opinion for the uncertain band: a chat model reads the closest quote.

Off by default (`RAG_ANSWER__VERIFY_UNCERTAIN`): on this machine's CPU the local
Qwen model takes seconds per question, and evals/README.md records what it changes.
Only an `uncertain` answer is ever sent; the model answers yes or no under a
grammar, and a yes moves the answer to `answered` (its quotes and its calibrated
confidence are unchanged: the model judges, it never writes what is shown).
"""

from __future__ import annotations

import logging
from dataclasses import replace

from rag.answer.states import Drafted
from rag.answer.wording import answer_text
from rag.llm.backends import ChatBackend

log = logging.getLogger(__name__)

SYSTEM = ("You check a fact-finding tool. Reply yes only if the passage itself states the "
          "answer to the question. Reply no if it is only on the same topic, gives an "
          "instruction or plan where the question asks what happened, names a role where "
          "the question asks for a person, or needs facts it does not contain.")


def confirm(backend: ChatBackend, question: str, drafted: Drafted) -> Drafted:
    """`drafted` as answered when the model says the first quote answers the question."""
    if drafted.status != "uncertain" or not drafted.citations:
        return drafted
    c = drafted.citations[0]
    messages = [{"role": "system", "content": SYSTEM},
                {"role": "user", "content": f"Question: {question}\nPassage: {c.printed}\n"
                                            "Does the passage state the answer? yes or no"}]
    reply = "".join(backend.stream(messages, 'root ::= "yes" | "no"')).strip().lower()
    log.info("uncertain answer checked by %s: %s", backend.name, reply)
    if not reply.startswith("yes"):
        return drafted
    return replace(drafted, status="answered", text=answer_text("answered", drafted.citations))
