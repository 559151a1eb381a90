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

  function link(c) {
    if (!c.url || !/^https?:\/\//.test(c.url)) { return null; }
    return c.url.split("#")[0] + (c.page ? "#page=" + c.page : "");
  }

  function render(box, data) {
    box.textContent = "";
    if (data.refused) {
      box.className = "a refused";
      box.appendChild(el("strong", null, "Not covered by these documents. "));
      var why = data.answer.replace(/^Not covered:\s*/, "");
      box.appendChild(document.createTextNode(why.charAt(0).toUpperCase() + why.slice(1)));
      return;
    }
    data.citations.forEach(function (c) {
      var q = el("blockquote", null, "\u201c" + c.quote + "\u201d ");
      q.appendChild(el("sup", null, "[" + c.n + "]"));
      box.appendChild(q);
    });
    var list = el("ol", "sources");
    data.citations.forEach(function (c) {
      var li = el("li");
      var href = link(c);
      if (href) {
        var a = el("a", null, c.title);
        a.href = href; a.target = "_blank"; a.rel = "noopener noreferrer";
        li.appendChild(a);
      } else {
        li.appendChild(el("span", null, c.title));
      }
      var where = [c.publisher, c.date, c.page ? "p. " + c.page : ""].filter(Boolean).join(", ");
      if (where) { li.appendChild(el("span", "where", " (" + where + ")")); }
      list.appendChild(li);
    });
    box.appendChild(list);
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
      body: JSON.stringify(kinds.length ? {question: question, history: history, kinds: kinds}
                                        : {question: question, history: history})
    }).then(function (r) {
      return r.json().then(function (data) { return {ok: r.ok, data: data}; });
    }).then(function (res) {
      if (!res.ok) {
        box.className = "a error";
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
