"""The Gradio chat: quoted answers, a sources list, a passage viewer, feedback.

It calls `Pipeline.ask` and nothing else; rendering lives in `ui.render`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import gradio as gr

from rag import Citation, Pipeline, RagError, Token

from .cite_text import draft_html, draft_payload
from .errors import http_status
from .feedback import FeedbackLog
from .limits import QuestionLimits, too_many_message
from .metrics import AppMetrics
from .render import answer_markdown, citation_label, context_html, desk_note, md_text

EXAMPLES = [
    "How many children were separated from their families?",
    "Who drafted the policy directive telling U.S. attorneys to prosecute?",
    "How long did prosecutions take, according to U.S. attorneys?",
    "Who chairs the Interagency Task Force on the Reunification of Families?",
]

CSS = """
mark.quote { background: #ffe066; padding: 0 2px; }
.passage p { line-height: 1.55; }
.passage-head { margin-bottom: .5em; }
#context { max-height: 560px; overflow-y: auto; }
"""

INTRO = ("### Ask the zero-tolerance report\n"
         "Answers are **verbatim quotes** from the indexed documents, each with a "
         "numbered source. Choose a citation on the right to read it in context. "
         "Questions the documents do not answer are marked *not covered*.")


# After an answer arrives, scroll the chat so the answer's first line (its state
# heading) is at the top of the view, not its last line: a long answer would otherwise
# hide "The documents may not answer this directly" above the fold. (Gradio's own
# autoscroll, which goes to the end, is off.)
SHOW_ANSWER_START = """() => {
  const log = document.querySelector('#chat');
  if (!log) return;
  const messages = log.querySelectorAll('.message');
  const last = messages[messages.length - 1];
  if (!last) return;
  let box = last.parentElement;
  while (box && box !== log.parentElement) {
    const style = getComputedStyle(box);
    if (/(auto|scroll)/.test(style.overflowY) && box.scrollHeight > box.clientHeight) break;
    box = box.parentElement;
  }
  if (!box || box === log.parentElement) return;
  const offset = last.getBoundingClientRect().top - box.getBoundingClientRect().top;
  box.scrollTop += offset - 8;
}"""


def _message_text(content: Any) -> str:
    if isinstance(content, list):
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return str(content)


def _limited(limits: QuestionLimits | None, request: gr.Request | None) -> float:
    """Seconds this chat client must wait before asking again (0.0: it may ask)."""
    if limits is None or request is None:
        return 0.0
    peer = request.client.host if request.client else None
    return limits.check(peer, request.headers.get("x-forwarded-for"))


def _latest_draft(answers: dict[int, dict[str, Any]]) -> str:
    """The 'For a draft' panel of the latest answer (its strings come from ui.cite_text)."""
    return draft_html(answers[max(answers)].get("draft")) if answers else ""


def build_chat(pipeline: Pipeline, feedback: FeedbackLog, limits: QuestionLimits | None = None,
               metrics: AppMetrics | None = None) -> gr.Blocks:
    """The chat page; every answer comes from `pipeline.ask`. `limits` (per-client
    rate) and `metrics` are the app's, shared with the API."""

    def report(status: int, started: float, answer: Any = None) -> None:
        if metrics is not None:
            metrics.request("chat", status)
            metrics.question("chat", status, time.perf_counter() - started, answer)

    def respond(message: str, chat: list[dict[str, Any]], turns: list[dict[str, str]],
                answers: dict[int, dict[str, Any]], kinds: list[str] | None,
                request: gr.Request
                ) -> Iterator[tuple[Any, ...]]:
        """Streams: in llm mode the draft text appears as it is generated; the
        checked answer with its quotes and sources replaces it when complete.
        `kinds`: the kinds of source ticked in the selector (none: all)."""
        chat, turns, answers = list(chat or []), list(turns or []), dict(answers or {})
        same = (gr.update(), gr.update())
        started = time.perf_counter()
        wait = _limited(limits, request)
        if wait:
            report(429, started)
            gr.Warning(too_many_message(wait))
            yield (message, chat, turns, answers, *same)
            return
        try:
            events = pipeline.ask_stream(message, turns, kinds or None)
            draft = ""
            for event in events:
                if isinstance(event, Token):
                    draft += event.text
                    drafting = chat + [{"role": "user", "content": md_text(message)},
                                       {"role": "assistant",
                                        "content": f"*Drafting…* {md_text(draft)}"}]
                    yield (gr.update(), drafting, turns, answers, *same)
                    continue
                answer = event
        except RagError as exc:
            status = http_status(exc)
            report(status, started)
            if status != 400:
                raise gr.Error(str(exc)) from exc
            gr.Warning(str(exc))  # the question itself: say why, keep it in the box
            yield (message, chat, turns, answers, *same)
            return
        report(200, started, answer)
        shown = answer_markdown(answer)
        if answer.question.strip() != message.strip():
            shown = f"*Answering: {md_text(answer.question)}*\n\n{shown}"
        chat.append({"role": "user", "content": md_text(message)})
        chat.append({"role": "assistant", "content": shown})
        turns += [{"role": "user", "content": message},
                  {"role": "assistant", "content": answer.answer}]
        answers[len(chat) - 1] = {**answer.to_dict(), "draft": draft_payload(answer)}
        labels = [citation_label(c) for c in answer.citations]
        picker = gr.update(choices=labels, value=None, visible=bool(labels))
        hint = ("<p>Choose a citation to see the passage in its document.</p>" if labels
                else "<p>No passage to show: the documents do not cover this question.</p>")
        yield "", chat, turns, answers, picker, hint

    def show_context(label: str | None, chat: list[dict[str, Any]],
                     answers: dict[int, dict[str, Any]]) -> Any:
        if not label or not answers:
            return gr.update()
        latest = answers[max(answers)]
        for raw in latest["citations"]:
            c = Citation(**raw)
            if citation_label(c) == label:
                doc = pipeline.document(c.doc_id)
                if doc is None:
                    return "<p>That document is no longer indexed.</p>"
                return context_html(doc, c, note=desk_note(pipeline.settings, c.doc_id))
        return gr.update()

    def record(data: gr.LikeData, answers: dict[int, dict[str, Any]]) -> None:
        answer = (answers or {}).get(data.index if isinstance(data.index, int)
                                     else data.index[0])
        if answer is None:
            return
        liked = data.liked if isinstance(data.liked, bool) else data.liked == "Like"
        feedback.append("up" if liked else "down", answer["question"], answer["answer"],
                        answer["citations"])
        gr.Info("Thanks: feedback recorded.")

    def known_kinds() -> list[str]:
        try:
            return pipeline.kinds()
        except RagError:  # an index built with other settings: asking reports it
            return []

    def offer_kinds() -> Any:
        known = known_kinds()
        return gr.update(choices=known, visible=bool(known))

    with gr.Blocks(title="Zero-tolerance report: quoted answers", analytics_enabled=False) as demo:
        gr.Markdown(INTRO)
        if pipeline.settings.serve.editor_tokens:  # editing is on: link editors to the desk
            gr.HTML('<a href="/sources" id="sources-link">Sources desk (editors)</a>')
        turns = gr.State([])
        answers = gr.State({})
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(label="Answers", height=560, elem_id="chat",
                                     sanitize_html=True, feedback_options=("Like", "Dislike"),
                                     buttons=["copy"], autoscroll=False)
                box = gr.Textbox(label="Question", elem_id="question", lines=1,
                                 placeholder="Ask about the report and its coverage…",
                                 max_length=pipeline.settings.max_question_chars)
                with gr.Row():
                    ask = gr.Button("Ask", variant="primary", elem_id="ask")
                    clear = gr.Button("New conversation", elem_id="clear")
                known = known_kinds()
                kinds = gr.CheckboxGroup(choices=known, label="Search only in",
                                         info="None ticked: every kind of source",
                                         elem_id="kinds", visible=bool(known))
                gr.Examples(EXAMPLES, inputs=box, label="Examples")
            with gr.Column(scale=2):
                picker = gr.Radio(choices=[], label="Check a quote in context",
                                  elem_id="citations", visible=False)
                context = gr.HTML("<p>Ask a question; its quotes can be checked here.</p>",
                                  elem_id="context")
                draft_panel = gr.HTML("", elem_id="draft")  # Copy buttons (static/copy.js)
        outputs = [box, chatbot, turns, answers, picker, context]
        inputs = [box, chatbot, turns, answers, kinds]
        for trigger in (ask.click, box.submit):
            trigger(respond, inputs, outputs, concurrency_id="ask"
                    ).then(_latest_draft, [answers], draft_panel
                           ).then(None, None, None, js=SHOW_ANSWER_START)
        # The index may have changed since the app started (an ingest): offer what it holds now.
        demo.load(offer_kinds, None, kinds)
        picker.change(show_context, [picker, chatbot, answers], context)
        chatbot.like(record, [answers], None)
        clear.click(lambda: ("", [], [], {}, gr.update(choices=[], visible=False),
                             "<p>Ask a question; its quotes can be checked here.</p>"),
                    None, outputs).then(lambda: "", None, draft_panel)
    serve = pipeline.settings.serve
    demo.queue(default_concurrency_limit=serve.workers, max_size=serve.limits.max_queue)
    return demo
