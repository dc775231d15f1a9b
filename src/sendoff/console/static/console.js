// sendoff console: small progressive enhancements. Every page works without this file;
// with it, lists, timelines, charts and logs update live and a few forms get helpers.
(() => {
  "use strict";

  let paused = false;
  const FRAGMENT = { "X-Console-Fragment": "1" };

  function clock() {
    return new Date().toISOString().slice(11, 19) + " UTC";
  }

  // ---- live regions: <div data-live="URL" data-interval="ms"> replaced by the URL's
  // fragment when it changes. Skipped while paused, hidden, or while the user is working
  // inside the region (focus or a text selection), so nothing moves under the cursor.
  function liveRegion(el) {
    const interval = Number(el.dataset.interval || 2000);
    const bar = document.querySelector(el.dataset.liveBar || "#live-bar");
    let last = null;
    let busy = false;
    async function refresh() {
      if (paused || document.hidden || busy) return;
      const active = document.activeElement;
      if (active && active !== document.body && el.contains(active)) return;
      const sel = window.getSelection();
      if (sel && !sel.isCollapsed && el.contains(sel.anchorNode)) return;
      busy = true;
      try {
        const response = await fetch(el.dataset.live, { headers: FRAGMENT, cache: "no-store" });
        if (!response.ok) {
          status(bar, "Live update failed (HTTP " + response.status + "); retrying.");
          return;
        }
        const text = await response.text();
        if (text !== last) {
          el.innerHTML = text;
          enhance(el);
          last = text;
          document.dispatchEvent(new Event("console:updated"));
        }
        status(bar, "");
        stamp(bar);
      } catch (err) {
        status(bar, "Live update failed: the server did not answer; retrying.");
      } finally {
        busy = false;
      }
    }
    const timer = window.setInterval(async () => {
      await refresh();
      // A region whose subject has finished (an event that settled) says so; stop there.
      if (el.querySelector("[data-live-done]")) {
        window.clearInterval(timer);
        if (bar) {
          bar.classList.add("paused");
          const state = bar.querySelector("[data-live-state]");
          if (state) state.textContent = "Finished: no more updates";
          const toggle = bar.querySelector("[data-live-toggle]");
          if (toggle) toggle.hidden = true;
        }
      }
    }, interval);
  }

  function status(bar, message) {
    if (!bar) return;
    const el = bar.querySelector("[data-live-status]");
    if (el && el.textContent !== message) el.textContent = message;
  }

  function stamp(bar) {
    if (!bar) return;
    const el = bar.querySelector("[data-live-time]");
    if (el) el.textContent = "updated " + clock();
  }

  function pauseButtons(root) {
    root.querySelectorAll("[data-live-toggle]").forEach((button) => {
      button.hidden = false;
      button.addEventListener("click", () => {
        paused = !paused;
        button.setAttribute("aria-pressed", String(paused));
        button.textContent = paused ? "Resume live updates" : "Pause live updates";
        document.querySelectorAll(".live-bar").forEach((b) => b.classList.toggle("paused", paused));
        document.querySelectorAll("[data-live-state]").forEach((s) => {
          s.textContent = paused ? "Live updates paused" : "Live";
        });
      });
    });
  }

  // ---- log tail: <ol data-tail="URL" data-after="SEQ"> gets lines appended.
  function logTail(list) {
    const box = list.closest(".log");
    const filter = document.querySelector("[data-log-filter]");
    const count = document.querySelector("[data-log-count]");
    let after = Number(list.dataset.after || 0);
    let busy = false;
    const MAX = 5000;
    function matches(li) {
      const text = filter ? filter.value.trim().toLowerCase() : "";
      return !text || li.textContent.toLowerCase().includes(text);
    }
    function counted() {
      if (!count) return;
      const shown = list.querySelectorAll("li:not([hidden])").length;
      count.textContent = shown + " line" + (shown === 1 ? "" : "s") + " shown";
    }
    function add(line) {
      const li = document.createElement("li");
      if (/^(START|END|REPORT) RequestId/.test(line.message)) li.className = "report";
      const time = document.createElement("time");
      time.textContent = line.time;
      const stream = document.createElement("span");
      stream.className = "stream";
      stream.textContent = line.stream;
      const msg = document.createElement("span");
      msg.textContent = line.message;
      li.append(time, stream, msg);
      li.hidden = !matches(li);
      list.append(li);
    }
    async function poll() {
      if (paused || document.hidden || busy) return;
      busy = true;
      try {
        const response = await fetch(list.dataset.tail + "?after=" + after, { cache: "no-store" });
        if (!response.ok) throw new Error("HTTP " + response.status);
        const data = await response.json();
        const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
        data.lines.forEach(add);
        while (list.children.length > MAX) list.firstElementChild.remove();
        after = data.next;
        if (data.lines.length) {
          counted();
          const empty = document.querySelector("[data-log-empty]");
          if (empty) empty.hidden = true;
          if (atBottom) box.scrollTop = box.scrollHeight;
        }
        status(document.querySelector("#live-bar"), "");
        stamp(document.querySelector("#live-bar"));
      } catch (err) {
        status(document.querySelector("#live-bar"), "Could not read new log lines (" + err.message + "); retrying.");
      } finally {
        busy = false;
      }
    }
    if (filter) {
      filter.addEventListener("input", () => {
        list.querySelectorAll("li").forEach((li) => { li.hidden = !matches(li); });
        counted();
      });
    }
    box.scrollTop = box.scrollHeight;
    counted();
    window.setInterval(poll, 1000);
  }

  // ---- uploads: PUT the file's bytes to the form's data-upload URL, then reload
  function uploads(root) {
    root.querySelectorAll("form[data-upload]").forEach((form) => {
      if (form.dataset.bound) return;
      form.dataset.bound = "1";
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const status = form.querySelector("[data-upload-status]");
        const file = form.querySelector("input[type=file]").files[0];
        if (!file) { status.textContent = "Choose a file first."; return; }
        const key = (form.dataset.prefix || "") + file.name;
        status.textContent = "Uploading " + key + "…";
        const response = await fetch(form.dataset.upload + "?key=" + encodeURIComponent(key), {
          method: "PUT", body: file, headers: { ...FRAGMENT, "Content-Type": file.type || "application/octet-stream" },
        });
        status.textContent = await response.text();
        if (response.ok) window.location.reload();
      });
    });
  }

  // ---- small helpers
  function enhance(root) {
    uploads(root);
    root.querySelectorAll("form[data-confirm]").forEach((form) => {
      if (form.dataset.bound) return;
      form.dataset.bound = "1";
      form.addEventListener("submit", (event) => {
        if (!window.confirm(form.dataset.confirm)) event.preventDefault();
      });
    });
    root.querySelectorAll("button[data-copy]").forEach((button) => {
      if (button.dataset.bound) return;
      button.dataset.bound = "1";
      button.hidden = false;
      button.addEventListener("click", async () => {
        try {
          await navigator.clipboard.writeText(button.dataset.copy);
          button.textContent = "Copied";
        } catch (err) {
          button.textContent = "Copy failed: select the text instead";
        }
        window.setTimeout(() => { button.textContent = "Copy ARN"; }, 2000);
      });
    });
  }

  // Tab indents in code editors; Escape, then Tab, moves focus on as usual.
  function codeEditors() {
    document.querySelectorAll("textarea.code").forEach((area) => {
      let escaped = false;
      area.addEventListener("keydown", (event) => {
        if (event.key === "Escape") { escaped = true; return; }
        if (event.key === "Tab" && !escaped && !event.shiftKey) {
          event.preventDefault();
          const start = area.selectionStart;
          area.setRangeText("  ", start, area.selectionEnd, "end");
        }
        if (event.key !== "Tab") escaped = false;
      });
      area.addEventListener("blur", () => { escaped = false; });
    });
  }

  // "Format JSON" buttons: pretty-print a textarea, or say where the JSON is wrong.
  function jsonFormatters() {
    document.querySelectorAll("button[data-format-json]").forEach((button) => {
      button.hidden = false;
      const area = document.getElementById(button.dataset.formatJson);
      const out = document.getElementById(button.dataset.formatJson + "-format");
      button.addEventListener("click", () => {
        try {
          area.value = JSON.stringify(JSON.parse(area.value), null, 2);
          if (out) out.textContent = "Formatted.";
        } catch (err) {
          if (out) out.textContent = "Not valid JSON: " + err.message;
        }
      });
    });
  }

  // The destination picker offers the existing resources of the chosen type.
  function destinationPickers() {
    document.querySelectorAll("select[data-list-for]").forEach((select) => {
      const input = document.getElementById(select.dataset.listFor);
      const hint = document.querySelector("[data-choices-hint]");
      const update = () => {
        input.setAttribute("list", "choices-" + select.value);
        const options = document.querySelectorAll("#choices-" + select.value + " option").length;
        const label = select.options[select.selectedIndex].text;
        if (hint) {
          hint.textContent = options
            ? options + " existing " + label + (options === 1 ? "" : "s") + " to pick from, or enter an ARN."
            : "No " + label + " exists yet: enter its ARN, or create it first.";
        }
      };
      select.addEventListener("change", update);
      update();
    });
  }

  // Create function: switching runtime swaps the default handler and code, unless edited.
  function runtimeDefaults() {
    const data = document.getElementById("runtime-defaults");
    const runtime = document.getElementById("f-runtime");
    if (!data || !runtime) return;
    const defaults = JSON.parse(data.textContent);
    const handler = document.getElementById("f-handler");
    const code = document.getElementById("f-code");
    runtime.addEventListener("change", () => {
      const next = defaults[runtime.value];
      if (!next) return;
      const untouched = (el, key) => Object.values(defaults).some((d) => d[key] === el.value);
      if (untouched(handler, "handler")) handler.value = next.handler;
      if (untouched(code, "code")) code.value = next.code;
    });
  }

  // Instant search in tables: <input data-filter="#table-id">.
  function tableFilters() {
    document.querySelectorAll("input[data-filter]").forEach((input) => {
      const apply = () => {
        const table = document.querySelector(input.dataset.filter);
        if (!table) return;
        const text = input.value.trim().toLowerCase();
        let shown = 0;
        table.querySelectorAll("tbody tr[data-name]").forEach((row) => {
          row.hidden = text !== "" && !row.dataset.name.toLowerCase().includes(text);
          if (!row.hidden) shown += 1;
        });
        const out = document.querySelector("[data-filter-count]");
        if (out) out.textContent = text ? shown + " matching" : "";
      };
      input.addEventListener("input", apply);
      document.addEventListener("console:updated", apply);
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    const summary = document.querySelector(".error-summary");
    if (summary) summary.focus();
    enhance(document);
    pauseButtons(document);
    codeEditors();
    jsonFormatters();
    destinationPickers();
    runtimeDefaults();
    tableFilters();
    document.querySelectorAll("[data-live]").forEach(liveRegion);
    document.querySelectorAll("ol[data-tail]").forEach(logTail);
  });
})();
