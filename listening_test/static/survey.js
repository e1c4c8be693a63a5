// The participant's page of the listening test (listening_test/web.py serves it and documents the API).
// The attempt's secret is an HttpOnly cookie: this script never sees it, and no URL carries it.
"use strict";
const PROMPTS = {
  genre: "Which genre matches this melody best?",
  fusion: "Which describes this melody best?",
  musicality: "Who do you think composed this melody?"
};
const LABELS = {jazz: "Jazz", folk: "Folk", neither: "Neither", mixture: "A mixture of jazz and folk",
                expert: "An expert composer", newbie: "A beginner", robot: "A computer program"};
const params = new URLSearchParams(location.search);
const ids = {PROLIFIC_PID: params.get("PROLIFIC_PID"), STUDY_ID: params.get("STUDY_ID"),
             SESSION_ID: params.get("SESSION_ID")};
let state = null, busy = false, ended = false;
const $ = id => document.getElementById(id);

function show(id) {
  for (const s of ["closed", "consent", "declined", "resume-box", "intro", "item", "done"]) $(s).hidden = s !== id;
}
function error(msg) { $("error").textContent = msg || ""; }   // stays until the next success
function status(msg) { $("status").textContent = msg || ""; }

class Refused extends Error {
  constructor(message, httpStatus, reason) { super(message); this.httpStatus = httpStatus; this.reason = reason; }
}

// One request. A lost connection or a busy server (503) is retried, with the wait growing to
// 10 s, for up to two minutes, saying so on screen; answers are idempotent, so a retry is safe.
async function call(method, url, body) {
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    let wait = Math.min(10000, 500 * 2 ** attempt);
    try {
      const r = await fetch(url, {method, credentials: "same-origin",
                                  headers: body ? {"Content-Type": "application/json"} : {},
                                  body: body ? JSON.stringify(body) : undefined});
      let data = {};
      try { data = await r.json(); } catch (e) { data = {error: r.statusText || "unexpected answer from the server"}; }
      if (r.status === 503) {
        wait = Math.max(wait, 1000 * (parseFloat(r.headers.get("Retry-After")) || 1));
        throw new Error("busy");
      }
      status("");
      if (!r.ok) throw new Refused(data.error || r.statusText, r.status, data.reason);
      return data;
    } catch (e) {
      if (e instanceof Refused) throw e;
      if (Date.now() - started > 120000) {
        status("");
        throw new Refused("We cannot reach the server. Your saved answers are safe: check your connection and " +
                          "press Next again, or reload this page later.", 0, "offline");
      }
      status(e.message === "busy" ? "The server is busy; trying again…" : "Reconnecting…");
      await new Promise(res => setTimeout(res, wait));
    }
  }
}

function render(s, message) {
  state = s; error(message || "");
  if (s.resume_code) { $("resume-code-shown").textContent = s.resume_code; $("resume").hidden = false; }
  if (s.step === "closed") { $("closed-why").textContent = s.message; show("closed"); return; }
  if (s.step === "consent") {
    if (s.minutes) $("minutes").textContent = s.minutes;
    if (s.contact) $("contact").textContent = s.contact;
    show("consent"); return;
  }
  if (s.step === "done") {
    $("code").textContent = s.completion_code; show("done"); $("resume").hidden = true;
    if (s.completion_url) {
      $("return-link").href = s.completion_url; $("redirect").hidden = false;
      setTimeout(() => location.assign(s.completion_url), 4000);
    }
    return;
  }
  if (s.step === "qualification" && s.answered === 0 && !checksPassed(s)) {  // instructions first
    $("n-warmup").textContent = s.clips_in_phase; $("n-main").textContent = s.clips - s.clips_in_phase;
    if (!$("check-player").src) $("check-player").src = "/survey/api/sound-check";
    if (s.headphones_required && !$("headphone-trials").children.length) headphoneTrials();
    $("headphones").hidden = !s.headphones_required;
    show("intro"); $("intro").querySelector("h2").focus(); return;
  }
  const wasWarmup = $("progress").dataset.step === "qualification";
  show("item");
  $("progress").dataset.step = s.step;
  $("progress").textContent = (s.step === "qualification" ? "Warm-up " : "Clip ") + s.clip_in_phase + " of " +
    s.clips_in_phase + (s.step === "main" && s.clip_in_phase === 1 && s.first_question && wasWarmup
                        ? " (the warm-up is over)" : "");
  const player = $("player");
  if (player.dataset.src !== s.audio) { player.dataset.src = s.audio; player.src = s.audio; ended = false; }
  $("prompt").textContent = PROMPTS[s.question];
  const box = $("choices"); box.textContent = "";
  for (const c of s.choices) {
    const label = document.createElement("label"); label.className = "choice";
    const input = document.createElement("input"); input.type = "radio"; input.name = "choice"; input.value = c;
    input.addEventListener("change", update);
    label.append(input, " ", LABELS[c] || c);
    box.append(label);
  }
  update();
  $("prompt").focus();
}

function checksPassed(s) {
  return s.sound_check === "passed" &&
         (!s.headphones_required || (s.headphone_check || "").startsWith("passed"));
}

function headphoneTrials() {
  for (let i = 0; i < 6; i++) {
    const box = document.createElement("fieldset");
    const legend = document.createElement("legend"); legend.textContent = "Trial " + (i + 1) + ": which tone is quietest?";
    const player = document.createElement("audio"); player.controls = true; player.preload = "none";
    player.src = "/survey/api/headphone-check/" + i; player.setAttribute("aria-label", "Headphone check, trial " + (i + 1));
    box.append(legend, player);
    for (const k of [1, 2, 3]) {
      const label = document.createElement("label"); label.className = "choice";
      const input = document.createElement("input"); input.type = "radio"; input.name = "hp" + i; input.value = k;
      label.append(input, " Tone " + k); box.append(label);
    }
    $("headphone-trials").append(box);
  }
}

function update() {
  const chosen = document.querySelector("input[name=choice]:checked");
  const mustListen = state && state.first_question && !ended;
  $("next").disabled = busy || !chosen || mustListen;
  $("hint").textContent = mustListen ? "Please listen to the clip to the end, then choose." : "";
}

async function reloadState(message) {
  try { render(await call("GET", "/survey/api/state"), message); }
  catch (e) { failed(e); }
}

function failed(e) {
  if (e.reason === "elsewhere" || e.reason === "no_attempt") {
    $("resume-why").textContent = e.message; show("resume-box"); error(""); return;
  }
  error(e.message);
}

$("player").addEventListener("ended", () => { ended = true; update(); });
$("intro").querySelector("h2").tabIndex = -1;
let audioRetries = 0;
$("player").addEventListener("error", () => {   // a busy server or a lost connection: load the clip again
  if (audioRetries++ > 30) { error("The clip does not load. Check your connection and reload this page."); return; }
  status("Loading the clip again…");
  setTimeout(() => { $("player").load(); }, Math.min(10000, 1000 * audioRetries));
});
$("player").addEventListener("canplay", () => { audioRetries = 0; if ($("status").textContent.startsWith("Loading")) status(""); });
$("form").addEventListener("submit", ev => ev.preventDefault());
$("next").addEventListener("click", async () => {
  const chosen = document.querySelector("input[name=choice]:checked");
  if (!chosen || busy) return;
  busy = true; update(); status("Saving…");
  try {
    render(await call("POST", "/survey/api/answer",
                      {position: state.position, question: state.question, choice: chosen.value}));
    status("");
  } catch (e) {
    status("");
    if (e.httpStatus === 409) {       // answered meanwhile (another tab): show where the survey really is
      busy = false;
      await reloadState(e.message + " Here is where your survey is now.");
    } else failed(e);
  }
  busy = false; update();
});
// what kind of device (recorded with the answers, so that results can be split by it)
function device() {
  const coarse = matchMedia("(pointer: coarse)").matches, side = Math.min(screen.width, screen.height);
  return !coarse ? "desktop" : side < 600 ? "phone" : "tablet";
}
$("agree").addEventListener("click", async () => {
  if (busy) return;
  busy = true; $("agree").disabled = true;
  try { render(await call("POST", "/survey/api/start", {...ids, consent: true, device: device()})); }
  catch (e) { failed(e); }
  busy = false; $("agree").disabled = false;
});
$("decline").addEventListener("click", () => { show("declined"); error(""); });
$("check-form").addEventListener("submit", async ev => {
  ev.preventDefault();
  if (busy) return;
  busy = true;
  try {
    if (state.sound_check !== "passed") {
      const r = await call("POST", "/survey/api/sound-check", {count: parseInt($("check-count").value, 10) || 0});
      if (!r.passed) {
        error("That is not the number of tones played. Check your volume, play them again and count.");
        busy = false; return;
      }
      state.sound_check = "passed";
    }
    if (state.headphones_required && !(state.headphone_check || "").startsWith("passed")) {
      const answers = [];
      for (let i = 0; i < 6; i++) {
        const chosen = document.querySelector(`input[name=hp${i}]:checked`);
        if (!chosen) { error("Please answer all six trials of the headphone check."); busy = false; return; }
        answers.push(parseInt(chosen.value, 10));
      }
      const r = await call("POST", "/survey/api/headphone-check", {answers});
      if (!r.passed) {
        error("This does not sound like headphones. Please put headphones on, play the trials again and choose again.");
        busy = false; return;
      }
      state.headphone_check = "passed";
    }
    render(state);
  } catch (e) { failed(e); }
  busy = false;
});
$("have-code").addEventListener("click", ev => { ev.preventDefault(); show("resume-box"); });
$("resume-form").addEventListener("submit", async ev => {
  ev.preventDefault();
  try {
    render(await call("POST", "/survey/api/resume",
                      {resume_code: $("resume-code").value, PROLIFIC_PID: ids.PROLIFIC_PID}));
  } catch (e) { error(e.message); }
});

(async () => {
  try { render(await call("POST", "/survey/api/start", {...ids, consent: false})); }
  catch (e) { failed(e); }
})();
