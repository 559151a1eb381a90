// The sources desk page. Every value from the server is shown with textContent,
// never parsed as HTML, so markup in a title or a file name stays text.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const state = { editor: null, csrf: null, kinds: [], jobs: new Map(), polling: false };

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }

  async function call(method, url, body, headers) {
    const opts = { method, credentials: "same-origin", headers: Object.assign({}, headers) };
    if (state.csrf && method !== "GET") opts.headers["X-CSRF-Token"] = state.csrf;
    if (body !== undefined) opts.body = body;
    const r = await fetch(url, opts);
    let data = null;
    try { data = await r.json(); } catch (e) { data = null; }
    if (!r.ok) throw new Error((data && data.error) || ("HTTP " + r.status));
    return data;
  }
  const json = (method, url, obj) =>
    call(method, url, JSON.stringify(obj), { "Content-Type": "application/json" });

  function fillKinds(select, blank) {
    select.replaceChildren();
    if (blank) select.append(new Option(blank, ""));
    for (const k of state.kinds) select.append(new Option(k, k));
  }

  async function loadSession() {
    const s = await call("GET", "/api/sources/session");
    state.kinds = s.kinds;
    state.editor = s.editor;
    state.csrf = s.csrf;
    fillKinds($("up-kind"), "Kind (optional)");
    fillKinds($("ed-kind"));
    $("off").hidden = s.editing;
    $("login").hidden = !s.editing || !!s.editor;
    $("editor").hidden = !s.editor;
    $("jobs-panel").hidden = !s.editor;
    document.body.classList.toggle("editing", !!s.editor);
    $("who").textContent = s.editor ? "Editor: " + s.editor : "";
    if (s.editor) pollJobs();
  }

  function cell(row, text, cls) { row.append(el("td", text, cls)); }

  function docRow(d) {
    const tr = el("tr");
    tr.dataset.docId = d.doc_id;
    const title = el("td");
    title.append(el("strong", d.title));
    title.append(el("small", d.doc_id));
    if (d.provenance) title.append(el("span", d.provenance, "prov"));
    tr.append(title);
    cell(tr, d.publisher);
    cell(tr, d.date);
    cell(tr, d.kind);
    cell(tr, d.pages === null ? "–" : d.pages);
    cell(tr, d.chunks);
    const hash = el("td", d.content_hash.slice(0, 12), "hash");
    hash.title = d.content_hash;
    tr.append(hash);
    const added = el("td", d.added_at ? d.added_at.slice(0, 10) : "–");
    added.append(el("small", d.origin + (d.added_by ? " · " + d.added_by : "")));
    tr.append(added);
    const actions = el("td", null, "edit-col");
    if (state.editor) {
      actions.append(button("Edit", "edit", () => openEdit(d)));
      if (d.desk) {
        actions.append(button("Replace", "replace", () => pickReplacement(d)));
        actions.append(button("Remove", "remove", () => removeDoc(d)));
      }
    }
    tr.append(actions);
    return tr;
  }

  function button(label, cls, onClick) {
    const b = el("button", label, cls);
    b.type = "button";
    b.addEventListener("click", onClick);
    return b;
  }

  async function loadDocuments() {
    $("list-error").textContent = "";
    let docs;
    try { docs = await call("GET", "/api/sources/documents"); }
    catch (e) { $("list-error").textContent = e.message; return; }
    $("docs").tBodies[0].replaceChildren(...docs.map(docRow));
    $("count").textContent = "(" + docs.length + ")";
  }

  function jobItem(job) {
    const li = el("li", null, job.status);
    li.dataset.jobId = job.id;
    li.append(el("strong", job.kind + ": " + job.subject));
    const bar = el("progress");
    bar.max = 1;
    bar.value = job.progress;
    li.append(bar);
    li.append(el("span", job.status === "running" || job.status === "queued" ? job.stage : job.status, "stage"));
    const msg = job.error || job.result;
    if (msg) li.append(el("span", msg, "job-msg"));
    return li;
  }

  async function pollJobs() {
    if (state.polling) return;
    state.polling = true;
    try {
      for (;;) {
        const jobs = await call("GET", "/api/sources/jobs");
        let changed = false;
        for (const j of jobs) {
          const before = state.jobs.get(j.id);
          if (before && before !== j.status && (j.status === "done" || j.status === "failed")) changed = true;
          state.jobs.set(j.id, j.status);
        }
        $("jobs").replaceChildren(...jobs.slice(0, 20).map(jobItem));
        if (changed) await loadDocuments();
        if (!jobs.some((j) => j.status === "queued" || j.status === "running")) break;
        await new Promise((r) => setTimeout(r, 400));
      }
    } catch (e) {
      $("list-error").textContent = e.message;
    } finally {
      state.polling = false;
    }
  }

  async function submit(promise) {
    $("list-error").textContent = "";
    try {
      const job = await promise;
      state.jobs.set(job.id, job.status);
    } catch (e) {
      $("list-error").textContent = e.message;
    }
    pollJobs();
  }

  function query(params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
    return q.toString();
  }

  $("login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    $("login-error").textContent = "";
    try {
      await json("POST", "/api/sources/login", { token: $("token").value });
      $("token").value = "";
      await loadSession();
      await loadDocuments();
    } catch (e) { $("login-error").textContent = e.message; }
  });

  $("logout").addEventListener("click", async () => {
    await call("POST", "/api/sources/logout").catch(() => null);
    await loadSession();
    await loadDocuments();
  });

  $("upload-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const meta = { title: $("up-title").value, publisher: $("up-publisher").value,
                   date: $("up-date").value, kind: $("up-kind").value };
    for (const file of $("files").files) {
      const url = "/api/sources/files?" + query(Object.assign({ name: file.name }, meta));
      await submit(call("POST", url, file, { "Content-Type": "application/octet-stream" }));
    }
    $("upload-form").reset();
  });

  $("url-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    await submit(json("POST", "/api/sources/urls", { url: $("url").value }));
    $("url-form").reset();
  });

  let replacing = null;
  function pickReplacement(d) { replacing = d; $("replace-file").click(); }
  $("replace-file").addEventListener("change", async () => {
    const file = $("replace-file").files[0];
    if (!file || !replacing) return;
    const url = "/api/sources/documents/" + encodeURIComponent(replacing.doc_id) +
      "/file?" + query({ name: file.name });
    await submit(call("PUT", url, file, { "Content-Type": "application/octet-stream" }));
    $("replace-file").value = "";
  });

  async function removeDoc(d) {
    if (!window.confirm("Remove “" + d.title + "” from the index? Answers stop quoting it at once.")) return;
    await submit(call("DELETE", "/api/sources/documents/" + encodeURIComponent(d.doc_id)));
  }

  let editing = null;
  function openEdit(d) {
    editing = d;
    $("edit-id").textContent = d.doc_id;
    $("ed-title").value = d.title;
    $("ed-publisher").value = d.publisher;
    $("ed-date").value = d.date;
    $("ed-kind").value = d.kind;
    $("edit-dialog").showModal();
  }
  $("edit-dialog").addEventListener("close", async () => {
    if ($("edit-dialog").returnValue !== "save" || !editing) return;
    const body = { title: $("ed-title").value, publisher: $("ed-publisher").value,
                   date: $("ed-date").value, kind: $("ed-kind").value };
    await submit(json("PATCH", "/api/sources/documents/" + encodeURIComponent(editing.doc_id), body));
  });

  loadSession().then(loadDocuments).catch((e) => { $("list-error").textContent = e.message; });
})();
