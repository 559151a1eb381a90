/* The compact chat inside the embed iframe. Everything from the server is put on the
 * page with textContent, never innerHTML, so document text cannot run as code. */
(function () {
  var log = document.getElementById("log");
  var form = document.getElementById("ask-form");
  var input = document.getElementById("q");
  var button = form.querySelector("button");
  var history = [];
  // Set by the embed script's data-kinds: search only these kinds of source.
  var kinds = (new URLSearchParams(location.search).get("kinds") || "").split(",")
    .filter(function (k) { return k; });

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }

  function safeHref(href) {
    return href && /^https?:\/\//.test(href) ? href : null;
  }

  function copyButton(text, label, cls) {
    var b = el("button", cls, label);
    b.type = "button";
    b.setAttribute("data-copy", text);  // copy.js puts it on the clipboard
    return b;
  }

  function render(box, data) {
    box.textContent = "";
    // Every string shown or copied below was made by the server (data.draft).
    var draft = data.draft;
    if (data.status === "not_covered") {
      box.className = "a refused";
      box.appendChild(el("strong", null, draft.not_covered_title + " "));
      box.appendChild(document.createTextNode(draft.reason));
      return;
    }
    if (data.status === "uncertain") {
      // The closest passages, which may not answer the question: said first, styled apart.
      box.className = "a uncertain";
      var head = el("p", "uncertain-head");
      head.appendChild(el("strong", null, draft.uncertain_title + " "));
      head.appendChild(document.createTextNode(draft.uncertain_note));
      box.appendChild(head);
    }
    data.citations.forEach(function (c, i) {
      var q = el("blockquote", null, "\u201c" + draft.quotes[i].text + "\u201d ");
      q.appendChild(el("sup", null, "[" + c.n + "]"));
      q.appendChild(copyButton(draft.quotes[i].copy, "Copy", "copy copy-quote"));
      box.appendChild(q);
    });
    var list = el("ul", "sources");
    draft.sources.forEach(function (s) {
      var li = el("li");
      li.appendChild(el("strong", null, s.numbers + " "));
      var href = safeHref(s.href);
      if (href) {
        var a = el("a", null, s.title);
        a.href = href; a.target = "_blank"; a.rel = "noopener noreferrer";
        li.appendChild(a);
      } else {
        li.appendChild(el("span", null, s.title));
      }
      if (s.where) { li.appendChild(el("span", "where", " (" + s.where + ")")); }
      list.appendChild(li);
    });
    box.appendChild(list);
    box.appendChild(copyButton(draft.markdown, "Copy answer", "copy copy-answer"));
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var question = input.value.trim();
    if (!question) { return; }
    log.appendChild(el("div", "q", question));
    var box = el("div", "a pending", "Looking in the documents\u2026");
    log.appendChild(box);
    button.disabled = true;
    fetch("api/ask", {
      method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify(kinds.length
        ? {question: question, history: history, kinds: kinds, draft: true}
        : {question: question, history: history, draft: true})
    }).then(function (r) {
      return r.json().then(function (data) { return {ok: r.ok, status: r.status, data: data}; });
    }).then(function (res) {
      if (!res.ok) {
        // 429: this reader asked too often; the message says how long to wait.
        box.className = res.status === 429 ? "a limited" : "a error";
        box.textContent = res.data.error || "Something went wrong.";
        return;
      }
      box.className = "a";
      render(box, res.data);
      history.push({role: "user", content: question},
                   {role: "assistant", content: res.data.answer});
      input.value = "";
    }).catch(function () {
      box.className = "a error";
      box.textContent = "The service could not be reached.";
    }).finally(function () {
      button.disabled = false;
      log.scrollTop = log.scrollHeight;
    });
  });
})();
