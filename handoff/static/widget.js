/*
 * Larkspur chat widget: one <script> tag, no framework, no build step.
 *
 *   <script src="https://support.example/widget.js" defer
 *           data-title="Larkspur Outdoor Co." data-color="#2f5d46"
 *           data-greeting="Hi! How can we help?"></script>
 *
 * A signed-in customer's chats join their history when the site adds
 * data-customer-ref="cust-42" and data-customer-ref-signature="<HMAC-SHA256 of the ref with
 * the shared identity secret, hex>", computed on the site's server (README, "Verified
 * identity"); without a valid signature the ref is ignored.
 *
 * data-server defaults to the origin the script came from. The widget lives in a Shadow
 * DOM (the host page's CSS cannot reach it) and speaks the protocol in docs/PROTOCOL.md:
 * POST /sessions once, then the customer socket, with every message shown by its seq.
 * Every piece of text is set with textContent; only http(s) links become anchors.
 */
(function () {
  "use strict";

  if (window.LarkspurChat) return; // included twice: one widget is enough

  const script =
    document.currentScript || document.querySelector('script[src$="widget.js"]');
  if (!script) return;
  const source = new URL(script.src, location.href);
  const data = script.dataset;
  const SERVER = (data.server || source.origin).replace(/\/+$/, "");
  const TITLE = data.title || "Chat with us";
  const GREETING = data.greeting || "Hi! How can we help you today?";
  const COLOR =
    data.color && window.CSS && CSS.supports("color", data.color) ? data.color : "#2f5d46";
  const IDENTITY = data.customerRef
    ? { customer_ref: data.customerRef, customer_ref_signature: data.customerRefSignature }
    : {};
  // One saved chat per signed-in customer: another account on this browser starts afresh.
  const STORAGE_KEY = "larkspur-chat:" + SERVER + (data.customerRef ? ":" + data.customerRef : "");
  const SOCKET_URL = SERVER.replace(/^http/, "ws") + "/ws/customer";
  const MAX_BACKOFF_MS = 30000;
  const SPEAKER_LABEL = { customer: "You", bot: "Assistant", system: "Notice" };
  // Feather's thumbs-up and thumbs-down (MIT): drawn, so no emoji font is needed.
  const THUMB_UP =
    "M14 9V5a3 3 0 0 0-3-3l-4 9v11h11.28a2 2 0 0 0 2-1.7l1.38-9a2 2 0 0 0-2-2.3zM7 22H4a2 2 0 0 1-2-2v-7a2 2 0 0 1 2-2h3";
  const THUMB_DOWN =
    "M10 15v4a3 3 0 0 0 3 3l4-9V2H5.72a2 2 0 0 0-2 1.7l-1.38 9a2 2 0 0 0 2 2.3zm7-13h2.67A2.31 2.31 0 0 1 22 4v7a2.31 2.31 0 0 1-2.33 2H17";
  const LINK = /\[([^\]\n]{1,300})\]\(([^()\s]{1,2000})\)|\bhttps?:\/\/[^\s<>"']+/g;

  // --- what survives a reload ----------------------------------------------------

  /** The session and unacknowledged messages, kept per server in localStorage. */
  const store = {
    state: null,
    load: function () {
      let saved = null;
      try {
        saved = JSON.parse(window.localStorage.getItem(STORAGE_KEY) || "null");
      } catch {
        saved = null; // storage disabled or garbled: start afresh
      }
      this.state = Object.assign(
        {
          conversationId: null,
          token: null,
          pending: [],
          open: false,
          agentName: null,
          csat: null,
          emailLeft: false,
          seenSeq: 0,
          votes: {}, // answer seq -> true (👍) or false (👎)
        },
        saved && typeof saved === "object" ? saved : {}
      );
      if (!Array.isArray(this.state.pending)) this.state.pending = [];
      if (!this.state.votes || typeof this.state.votes !== "object") this.state.votes = {};
      return this.state;
    },
    save: function () {
      try {
        window.localStorage.setItem(STORAGE_KEY, JSON.stringify(this.state));
      } catch {
        // private mode or full: the widget still works for this page's life
      }
    },
  };
  const state = store.load();

  // --- small DOM helpers -----------------------------------------------------------

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      const value = attrs[name];
      if (value === false || value === null || value === undefined) return;
      if (name === "text") node.textContent = value;
      else if (name === "className") node.className = value;
      else node.setAttribute(name, value === true ? "" : value);
    });
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function icon(path) {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    const shape = document.createElementNS(ns, "path");
    shape.setAttribute("d", path);
    svg.appendChild(shape);
    return svg;
  }

  /** Text with Markdown links and bare URLs; only http(s) targets become anchors. */
  function richText(text) {
    const fragment = document.createDocumentFragment();
    let at = 0;
    let found;
    LINK.lastIndex = 0;
    while ((found = LINK.exec(text)) !== null) {
      const label = found[1];
      const target = label ? found[2] : found[0].replace(/[.,;:!?)]+$/, "");
      const url = safeUrl(target);
      if (!url) continue; // javascript:, data: … stay plain text
      fragment.appendChild(document.createTextNode(text.slice(at, found.index)));
      fragment.appendChild(
        el("a", { href: url, target: "_blank", rel: "noopener noreferrer", text: label || target })
      );
      at = found.index + (label ? found[0].length : target.length);
    }
    fragment.appendChild(document.createTextNode(text.slice(at)));
    return fragment;
  }

  function safeUrl(raw) {
    try {
      const url = new URL(raw);
      return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
    } catch {
      return null;
    }
  }

  function newClientId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    const bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map
      .call(bytes, function (b) {
        return ("0" + b.toString(16)).slice(-2);
      })
      .join("");
  }

  /** White or near-black, whichever reads better on the configured colour. */
  function textOn(color) {
    const probe = el("span", { hidden: true });
    shadow.appendChild(probe);
    probe.style.color = color; // through the CSSOM, which a strict CSP allows
    const rgb = (getComputedStyle(probe).color.match(/\d+(\.\d+)?/g) || [0, 0, 0]).map(Number);
    probe.remove();
    const lin = rgb.slice(0, 3).map(function (c) {
      c /= 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    const luminance = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2];
    const onWhite = 1.05 / (luminance + 0.05);
    const onNearBlack = (luminance + 0.05) / 0.0556; // #111111
    return onWhite >= onNearBlack ? "#ffffff" : "#111111";
  }

  // --- the widget's elements ---------------------------------------------------------

  const host = el("div", { id: "larkspur-chat", "data-larkspur-chat": "" });
  const shadow = host.attachShadow({ mode: "open" });
  const root = el("div", { className: "lw", hidden: true });
  const stylesheet = el("link", { rel: "stylesheet", href: SERVER + "/static/widget.css" });
  const unread = el("span", { className: "lw-unread", hidden: true, "aria-hidden": "true" });
  const launcher = el(
    "button",
    {
      type: "button",
      className: "lw-launcher",
      "aria-expanded": "false",
      "aria-controls": "lw-panel",
    },
    [
      icon("M4 4h16v11H8l-4 4V4z"),
      el("span", { className: "lw-launcher-text", text: "Chat with us" }),
      unread,
    ]
  );
  const closeButton = el(
    "button",
    { type: "button", className: "lw-close", "aria-label": "Close chat" },
    [icon("M6 6l12 12M18 6L6 18")]
  );
  const connection = el("p", { className: "lw-connection", role: "status" });
  const queueInfo = el("p", { className: "lw-queue", role: "status" });
  const greeting = el("div", { className: "lw-msg lw-msg-bot lw-greeting" }, [
    el("span", { className: "lw-sr", text: SPEAKER_LABEL.bot + ": " }),
    el("p", { className: "lw-bubble", text: GREETING }),
  ]);
  const messageList = el("div", { className: "lw-messages" });
  const pendingList = el("div", { className: "lw-pending" });
  const log = el(
    "div",
    {
      className: "lw-log",
      role: "log",
      "aria-live": "polite",
      "aria-label": "Conversation",
      tabindex: "0",
    },
    [greeting, messageList, pendingList]
  );
  const typing = el("p", { className: "lw-typing", hidden: true });
  const extras = el("div", { className: "lw-extras" });
  const input = el("input", {
    id: "lw-input",
    type: "text",
    className: "lw-input",
    autocomplete: "off",
    maxlength: "5000",
    placeholder: "Type your message…",
  });
  const composer = el("form", { className: "lw-composer" }, [
    el("label", { className: "lw-sr", for: "lw-input", text: "Your message" }),
    input,
    el("button", { type: "submit", className: "lw-send", text: "Send" }),
  ]);
  const panel = el(
    "section",
    { id: "lw-panel", className: "lw-panel", "aria-labelledby": "lw-title", hidden: true },
    [
      el("header", { className: "lw-header" }, [
        el("h2", { id: "lw-title", className: "lw-title", text: TITLE }),
        closeButton,
      ]),
      connection,
      queueInfo,
      log,
      typing,
      extras,
      composer,
    ]
  );
  root.appendChild(launcher);
  root.appendChild(panel);
  shadow.appendChild(stylesheet);
  shadow.appendChild(root);

  // --- showing messages ------------------------------------------------------------

  let lastSeq = 0;
  const pendingEls = {}; // client_id -> element still waiting for its stored copy
  const titles = {}; // button payload -> its title, to show "Talk to a person", not "/request_human"
  let owner = "bot";
  let typingTimer = null;

  // Follow the conversation unless the customer scrolled up to read; keep following when
  // the log shrinks (a form or a status line appears below or above it).
  let following = true;
  let scrolledTo = 0; // where the widget itself last scrolled the log

  function scrollDown(force) {
    if (!force && !following) return;
    log.scrollTop = log.scrollHeight;
    scrolledTo = log.scrollTop;
    following = true;
  }

  log.addEventListener("scroll", function () {
    // Scroll events arrive late, after more messages may have landed: only a move up
    // from where the widget scrolled to is the reader's own.
    if (log.scrollHeight - log.scrollTop - log.clientHeight < 40) following = true;
    else if (log.scrollTop < scrolledTo - 1) following = false;
  });
  if (window.ResizeObserver) {
    new ResizeObserver(function () {
      scrollDown(false);
    }).observe(log);
  }

  function bubble(speaker, text, seq) {
    const shown = speaker === "customer" && titles[text] ? titles[text] : text;
    if (speaker === "system") {
      return el("div", { className: "lw-msg lw-msg-system", "data-seq": seq }, [
        el("p", { className: "lw-notice" }, [shown]),
      ]);
    }
    const label = speaker === "agent" ? state.agentName || "Support team" : SPEAKER_LABEL[speaker];
    const item = el("div", { className: "lw-msg lw-msg-" + speaker, "data-seq": seq });
    if (speaker === "agent") item.appendChild(el("p", { className: "lw-name", text: label }));
    else item.appendChild(el("span", { className: "lw-sr", text: (label || speaker) + ": " }));
    const body = el("p", { className: "lw-bubble" });
    body.appendChild(richText(shown));
    item.appendChild(body);
    return item;
  }

  function quickReplies(buttons) {
    const group = el("div", {
      className: "lw-replies",
      role: "group",
      "aria-label": "Suggested replies",
    });
    buttons.forEach(function (button) {
      const title = String(button.title || button.payload || "");
      const payload = String(button.payload || button.title || "");
      if (!payload.trim()) return;
      titles[payload] = title;
      const choice = el("button", { type: "button", className: "lw-reply", text: title });
      choice.addEventListener("click", function () {
        send(payload, title);
        input.focus(); // the buttons are gone now; keep the keyboard where it can type
      });
      group.appendChild(choice);
    });
    return group;
  }

  /** 👍/👎 under an FAQ or article answer; the other one, pressed later, changes the vote. */
  function feedback(seq) {
    const said = el("span", { className: "lw-rate-said", role: "status" });
    let voting = Promise.resolve(); // one vote at a time, so the last press is the one kept
    const group = el("div", { className: "lw-rate", role: "group", "aria-label": "Was this answer helpful?" });
    const choices = [true, false].map(function (helpful) {
      const button = el(
        "button",
        {
          type: "button",
          className: "lw-rate-button",
          "aria-label": helpful ? "Helpful" : "Not helpful",
          "aria-pressed": String(state.votes[seq] === helpful),
        },
        [icon(helpful ? THUMB_UP : THUMB_DOWN)]
      );
      button.addEventListener("click", function () {
        voting = voting.then(function () {
          return vote(seq, helpful, choices, said);
        });
      });
      group.appendChild(button);
      return button;
    });
    group.appendChild(said);
    return group;
  }

  async function vote(seq, helpful, choices, said) {
    if (state.votes[seq] === helpful) return; // already counted
    const before = state.votes[seq];
    showVote(choices, helpful);
    said.textContent = "";
    const answer = await post("/conversations/" + state.conversationId + "/feedback", {
      seq: seq,
      helpful: helpful,
    });
    if (answer.status === 200) {
      state.votes[seq] = helpful;
      store.save();
      said.textContent = "Thanks for letting us know.";
    } else {
      showVote(choices, before);
      said.textContent = "Sorry, that didn't go through. Please try again.";
    }
  }

  function showVote(choices, helpful) {
    choices[0].setAttribute("aria-pressed", String(helpful === true));
    choices[1].setAttribute("aria-pressed", String(helpful === false));
  }

  function clearQuickReplies() {
    Array.prototype.forEach.call(log.querySelectorAll(".lw-replies"), function (group) {
      group.remove();
    });
  }

  function showMessage(message) {
    if (typeof message.seq !== "number" || message.seq <= lastSeq) return; // seen already
    const follow = following || message.speaker === "customer";
    lastSeq = message.seq;
    if (message.speaker === "customer") {
      clearQuickReplies();
      forgetPending(message.client_id);
    } else if (message.speaker === "bot" || message.speaker === "agent") {
      hideTyping();
    }
    const item = bubble(message.speaker, String(message.text || ""), message.seq);
    if (Array.isArray(message.buttons) && message.buttons.length) {
      item.appendChild(quickReplies(message.buttons));
    }
    if (message.speaker === "bot" && message.rateable) item.appendChild(feedback(message.seq));
    messageList.appendChild(item);
    if (panel.hidden && message.speaker !== "customer" && message.seq > state.seenSeq) {
      unread.hidden = false;
      launcher.setAttribute("aria-label", "Chat with us (new messages)");
    }
    if (!panel.hidden) markSeen();
    scrollDown(follow);
  }

  function showPending(clientId, text) {
    const item = bubble("customer", text, null);
    item.classList.add("lw-is-pending");
    item.appendChild(el("span", { className: "lw-state", text: "Sending…" }));
    pendingEls[clientId] = item;
    pendingList.appendChild(item);
    scrollDown(true);
  }

  function forgetPending(clientId) {
    if (!clientId) return;
    if (pendingEls[clientId]) {
      pendingEls[clientId].remove();
      delete pendingEls[clientId];
    }
    const before = state.pending.length;
    state.pending = state.pending.filter(function (p) {
      return p.clientId !== clientId;
    });
    if (state.pending.length !== before) store.save();
  }

  function notice(text) {
    messageList.appendChild(
      el("div", { className: "lw-msg lw-msg-system lw-local" }, [
        el("p", { className: "lw-notice" }, [text]),
      ])
    );
    scrollDown(true);
  }

  function showTyping(speaker) {
    const who = speaker === "agent" ? state.agentName || "Our support team" : "The assistant";
    typing.textContent = who + " is typing…";
    typing.hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(hideTyping, speaker === "agent" ? 6000 : 45000);
  }

  function hideTyping() {
    clearTimeout(typingTimer);
    typing.hidden = true;
  }

  function markSeen() {
    unread.hidden = true;
    launcher.removeAttribute("aria-label");
    if (state.seenSeq !== lastSeq) {
      state.seenSeq = lastSeq;
      store.save();
    }
  }

  // --- who answers: the bot, the queue, a person -----------------------------------------

  function minutes(seconds) {
    if (seconds < 60) return "less than a minute";
    const n = Math.round(seconds / 60);
    return n === 1 ? "about a minute" : "about " + n + " minutes";
  }

  function setQueue(text) {
    queueInfo.textContent = text; // live regions stay rendered; CSS collapses them when empty
  }

  /** A handoff's place in line (from welcome or queue events), said plainly. */
  function showPlace(handoff) {
    owner = "queue";
    // No place in line while waiting: an offline ticket, answered by email or when someone is in.
    if (
      handoff.state === "offline" ||
      handoff.position === null ||
      handoff.position === undefined ||
      state.emailLeft
    ) {
      hideForm("email");
      setQueue("Our team will reply by email, or here when someone comes online.");
    } else if (handoff.offline) {
      setQueue(
        handoff.offline_reason === "outside_hours"
          ? "Our support team is outside its hours right now."
          : "Nobody from our support team is available right now."
      );
      showEmailForm();
    } else {
      hideForm("email");
      const place =
        handoff.position === 1 ? "You're next in line." : "You're number " + handoff.position + " in line.";
      const wait = handoff.estimated_wait_s
        ? " Estimated wait: " + minutes(handoff.estimated_wait_s) + "."
        : " A person should join in a moment.";
      setQueue(place + wait);
    }
  }

  function withAgent(name) {
    owner = "agent";
    if (name) {
      state.agentName = name;
      store.save();
    }
    hideForm("email");
    setQueue("You're chatting with " + (state.agentName || "our support team") + ".");
  }

  function withBot() {
    owner = "bot";
    if (state.emailLeft) {
      state.emailLeft = false; // that handoff is over; a later one may need the form again
      store.save();
    }
    hideForm("email");
    setQueue("");
  }

  // --- the email form and the rating ----------------------------------------------------

  const forms = {};

  /** Remove a form; if the keyboard was in it, give the focus to the message box. */
  function hideForm(name) {
    const form = forms[name];
    if (!form) return;
    const hadFocus = form.contains(shadow.activeElement);
    form.remove();
    delete forms[name];
    if (hadFocus) input.focus();
  }

  function formError(form) {
    return form.querySelector(".lw-error");
  }

  function showEmailForm() {
    if (forms.email) return;
    const field = el("input", {
      id: "lw-email",
      type: "email",
      className: "lw-input",
      autocomplete: "email",
      required: true,
      maxlength: "320",
    });
    const form = el("form", { className: "lw-form lw-email-form", "aria-labelledby": "lw-email-intro" }, [
      el("p", {
        id: "lw-email-intro",
        className: "lw-form-intro",
        text: "Leave your email address and the first person online will reply there.",
      }),
      el("label", { for: "lw-email", text: "Email address" }),
      el("div", { className: "lw-row" }, [
        field,
        el("button", { type: "submit", className: "lw-button", text: "Send" }),
      ]),
      el("p", { className: "lw-error", role: "alert" }),
    ]);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      leaveEmail(form, field.value.trim());
    });
    forms.email = form;
    extras.appendChild(form);
  }

  async function leaveEmail(form, email) {
    const answer = await post("/conversations/" + state.conversationId + "/offline", { email: email });
    if (answer.status === 200 || answer.status === 409) {
      state.emailLeft = true;
      store.save();
      hideForm("email");
      setQueue("Our team will reply by email, or here when someone comes online.");
    } else {
      formError(form).textContent =
        answer.status === 400
          ? "That doesn't look like an email address. Please check it."
          : "Sorry, that didn't go through. Please try again in a moment.";
    }
  }

  function showRating() {
    if (forms.csat) return;
    const choices = el("div", { className: "lw-rating" });
    for (let n = 1; n <= 5; n += 1) {
      const id = "lw-rate-" + n;
      choices.appendChild(
        el("input", { type: "radio", name: "rating", id: id, value: String(n), className: "lw-radio" })
      );
      choices.appendChild(
        el("label", { for: id, className: "lw-star" }, [
          String(n),
          el("span", { className: "lw-sr", text: n === 1 ? " (poor)" : n === 5 ? " (excellent)" : "" }),
        ])
      );
    }
    const comment = el("textarea", {
      id: "lw-comment",
      className: "lw-input lw-comment",
      rows: "2",
      maxlength: "2000",
    });
    const skip = el("button", { type: "button", className: "lw-link", text: "No thanks" });
    const form = el("form", { className: "lw-form lw-csat-form" }, [
      el("fieldset", {}, [
        el("legend", { text: "How did we do? Rate this chat from 1 (poor) to 5 (excellent)." }),
        choices,
      ]),
      el("label", { for: "lw-comment", text: "Anything to add? (optional)" }),
      comment,
      el("div", { className: "lw-row" }, [
        el("button", { type: "submit", className: "lw-button", text: "Send rating" }),
        skip,
      ]),
      el("p", { className: "lw-error", role: "alert" }),
    ]);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      const picked = form.querySelector(".lw-radio:checked");
      if (!picked) {
        formError(form).textContent = "Please pick a rating from 1 to 5.";
        return;
      }
      rate(form, Number(picked.value), comment.value.trim());
    });
    skip.addEventListener("click", function () {
      finishRating(null);
    });
    forms.csat = form;
    extras.appendChild(form);
  }

  async function rate(form, rating, comment) {
    const body = comment ? { rating: rating, comment: comment } : { rating: rating };
    const answer = await post("/conversations/" + state.conversationId + "/csat", body);
    if (answer.status === 201 || answer.status === 409) {
      finishRating("Thank you for rating this chat.");
    } else {
      formError(form).textContent = "Sorry, that didn't go through. Please try again in a moment.";
    }
  }

  function finishRating(thanks) {
    hideForm("csat");
    state.csat = "done";
    store.save();
    if (thanks) notice(thanks);
  }

  async function post(path, body) {
    try {
      const response = await fetch(SERVER + path, {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: "Bearer " + state.token },
        body: JSON.stringify(body),
      });
      return { status: response.status };
    } catch {
      return { status: 0 }; // offline: the caller says so
    }
  }

  // --- the session and the socket ----------------------------------------------------------

  let socket = null;
  let ready = false;
  let attempt = 0;
  let retryTimer = null;
  let creating = null;

  function setConnection(text) {
    connection.textContent = text;
  }

  /** A conversation id and token: the saved ones, or a new session. */
  function ensureSession() {
    if (state.token) return Promise.resolve(true);
    if (creating) return creating;
    creating = fetch(SERVER + "/sessions", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(IDENTITY),
    })
      .then(function (response) {
        if (response.status !== 201) throw new Error("session refused: " + response.status);
        return response.json();
      })
      .then(function (session) {
        state.conversationId = session.conversation_id;
        state.token = session.token;
        store.save();
        return true;
      })
      .catch(function () {
        scheduleReconnect();
        return false;
      })
      .finally(function () {
        creating = null;
      });
    return creating;
  }

  function connect() {
    clearTimeout(retryTimer);
    retryTimer = null;
    if (socket) return;
    if (navigator.onLine === false) {
      setConnection("You're offline. Messages will be sent when you're back online.");
      return;
    }
    ensureSession().then(function (ok) {
      if (ok && !socket) open();
    });
  }

  function open() {
    const ws = new WebSocket(SOCKET_URL);
    socket = ws;
    if (!ready && attempt > 0) setConnection("Reconnecting…");
    ws.onopen = function () {
      ws.send(JSON.stringify({ type: "hello", token: state.token, last_seq: lastSeq }));
    };
    ws.onmessage = function (event) {
      if (socket !== ws) return; // an old socket, already given up
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      if (frame && typeof frame === "object") handle(frame);
    };
    ws.onclose = function (event) {
      if (socket !== ws) return;
      socket = null;
      ready = false;
      closed(event.code);
    };
  }

  function drop() {
    if (!socket) return;
    const ws = socket;
    socket = null;
    ready = false;
    ws.close();
  }

  function closed(code) {
    if (code === 4401) {
      startOver(); // the session is gone (or never was): a new conversation
    } else if (code === 1013) {
      retryTimer = setTimeout(connect, 200 + Math.random() * 800); // resync now
    } else if (code === 1001 && panel.hidden && !state.pending.length) {
      // the service closed an idle chat: reconnect when the customer opens it again
    } else {
      scheduleReconnect();
    }
  }

  /** Exponential backoff with jitter, so a restarted service is not stampeded. */
  function scheduleReconnect() {
    if (retryTimer) return;
    const delay = Math.min(MAX_BACKOFF_MS, 500 * Math.pow(2, attempt));
    attempt += 1;
    setConnection("Reconnecting…");
    retryTimer = setTimeout(connect, delay / 2 + Math.random() * (delay / 2));
  }

  function startOver() {
    state.conversationId = null;
    state.token = null;
    state.agentName = null;
    state.csat = null;
    state.emailLeft = false;
    state.seenSeq = 0;
    state.votes = {};
    store.save();
    lastSeq = 0;
    messageList.textContent = "";
    withBot();
    hideForm("csat");
    scheduleReconnect();
  }

  function sendFrame(frame) {
    if (socket && ready) socket.send(JSON.stringify(frame));
  }

  function handle(frame) {
    switch (frame.type) {
      case "welcome":
        ready = true;
        attempt = 0;
        setConnection("");
        welcome(frame);
        state.pending.forEach(function (p) {
          sendFrame({ type: "message", text: p.text, client_id: p.clientId });
        });
        break;
      case "message":
        showMessage(frame);
        break;
      case "ack":
        acked(frame);
        break;
      case "typing":
        if (frame.speaker === "bot" || frame.speaker === "agent") showTyping(frame.speaker);
        break;
      case "queue":
        showPlace(frame);
        break;
      case "offline":
        showPlace({ state: "queued", position: 0, offline: true, offline_reason: frame.reason });
        break;
      case "agent_joined":
        withAgent(frame.name);
        break;
      case "agent_left":
      case "bot_resumed":
        withBot();
        break;
      case "csat_request":
        state.csat = "pending";
        store.save();
        showRating();
        break;
      case "error":
        refused(frame);
        break;
    }
  }

  function welcome(frame) {
    if (frame.owner === "agent") withAgent(null);
    else if (frame.owner === "queue" && frame.handoff) showPlace(frame.handoff);
    else withBot();
  }

  function acked(frame) {
    const still = state.pending.some(function (p) {
      return p.clientId === frame.client_id;
    });
    if (!still) return;
    state.pending = state.pending.filter(function (p) {
      return p.clientId !== frame.client_id;
    });
    store.save();
    // The stored copy follows as a message event; if it was shown already, drop the draft.
    if (frame.seq <= lastSeq) forgetPending(frame.client_id);
  }

  function refused(frame) {
    if (frame.code === "too_many_requests" && frame.client_id) {
      setConnection("Sending a little slower…");
      setTimeout(function () {
        setConnection("");
        const p = state.pending.find(function (q) {
          return q.clientId === frame.client_id;
        });
        if (p) sendFrame({ type: "message", text: p.text, client_id: p.clientId });
      }, 5000);
    } else if (frame.client_id) {
      forgetPending(frame.client_id);
      notice("That message couldn't be sent: " + (frame.message || "please try again."));
    }
  }

  // --- what the customer does ----------------------------------------------------------

  let lastTyping = 0;

  function send(text, shown) {
    if (!text.trim()) return;
    const clientId = newClientId();
    state.pending.push({ clientId: clientId, text: text, shown: shown || text });
    store.save();
    clearQuickReplies();
    showPending(clientId, shown || text);
    if (ready) sendFrame({ type: "message", text: text, client_id: clientId });
    else if (!socket) connect();
  }

  function openPanel(focus) {
    panel.hidden = false;
    launcher.hidden = true;
    launcher.setAttribute("aria-expanded", "true");
    state.open = true;
    store.save();
    markSeen();
    scrollDown(true);
    if (!socket && !retryTimer) connect();
    if (focus) input.focus();
  }

  function closePanel() {
    panel.hidden = true;
    launcher.hidden = false;
    launcher.setAttribute("aria-expanded", "false");
    state.open = false;
    store.save();
    launcher.focus();
  }

  launcher.addEventListener("click", function () {
    openPanel(true);
  });
  closeButton.addEventListener("click", closePanel);
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      event.preventDefault();
      closePanel();
    }
  });
  composer.addEventListener("submit", function (event) {
    event.preventDefault();
    const text = input.value;
    if (!text.trim()) return;
    input.value = "";
    send(text);
  });
  input.addEventListener("input", function () {
    const now = Date.now();
    if (owner === "agent" && now - lastTyping > 2500) {
      lastTyping = now;
      sendFrame({ type: "typing" });
    }
  });

  // A dropped network rarely closes a socket quickly; the browser knows sooner.
  window.addEventListener("offline", function () {
    drop();
    clearTimeout(retryTimer);
    retryTimer = null;
    setConnection("You're offline. Messages will be sent when you're back online.");
  });
  window.addEventListener("online", function () {
    attempt = 0;
    connect();
  });

  // --- start ---------------------------------------------------------------------------

  function start() {
    document.body.appendChild(host);
    host.style.setProperty("--lw-accent", COLOR);
    host.style.setProperty("--lw-on-accent", textOn(COLOR));
    const show = function () {
      root.hidden = false;
    };
    stylesheet.addEventListener("load", show);
    stylesheet.addEventListener("error", show);
    state.pending.forEach(function (p) {
      showPending(p.clientId, p.shown || p.text);
    });
    if (state.csat === "pending") showRating();
    if (state.open) openPanel(false);
    else if (state.token) connect();
  }

  window.LarkspurChat = {
    open: function () {
      openPanel(true);
    },
    close: closePanel,
  };
  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
})();
