// Reporting someone else's message (docs/protocol.md, "report", "reported"): a modal
// dialog asks why (1–500 characters), sends `report` {id, reason, request_id}, and shows
// the answer to that request: a confirmation, or the server's refusal.
// The checks (checkReason, counterText) are pure: jstests/report-dialog.test.mjs.

export const REASON_MAX = 500;

/** Characters as the server counts them (code points, not UTF-16 units). */
function length(text) {
  return [...text].length;
}

/** The reason as it would be sent (trimmed) and what stops it: {reason, problem} (null: none). */
export function checkReason(text) {
  const reason = String(text ?? "").trim();
  if (!reason) return { reason, problem: "Say why you are reporting this message." };
  if (length(reason) > REASON_MAX) {
    return { reason, problem: `A reason can be at most ${REASON_MAX} characters long.` };
  }
  return { reason, problem: null };
}

/** The counter under the reason: "12 of 500 characters". */
export function counterText(text) {
  return `${length(String(text ?? "").trim())} of ${REASON_MAX} characters`;
}

/**
 * The dialog of templates/chat/room.html. `send(frame)` sends a report and returns its
 * request_id (false when offline); `settle(requestId)` closes that request in the store;
 * `refused(text)` shows a refusal that came after the dialog was closed.
 */
export class ReportDialog {
  constructor(dialog, { send, settle, refused }) {
    this.dialog = dialog;
    this.send = send;
    this.settle = settle;
    this.refused = refused;
    this.form = dialog.querySelector("form");
    this.input = dialog.querySelector('[data-testid="report-reason-input"]');
    this.counter = dialog.querySelector('[data-testid="report-reason-count"]');
    this.problem = dialog.querySelector('[data-testid="report-dialog-error"]');
    this.submit = dialog.querySelector('[data-testid="report-submit"]');
    this.excerpt = dialog.querySelector('[data-testid="report-dialog-excerpt"]');
    this.done = dialog.querySelector('[data-testid="report-dialog-done"]');
    this.confirmation = dialog.querySelector('[data-testid="report-confirmation"]');
    this.closeButton = dialog.querySelector('[data-testid="report-close"]');
    this.messageId = null;
    this.requestId = null; // the report this dialog waits for
    this.sent = new Set(); // every report unanswered, this one and any the dialog was closed on
    this.opener = null;
    this.input.addEventListener("input", () => {
      this.counter.textContent = counterText(this.input.value);
      this.#showProblem(null);
    });
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#send();
    });
    dialog.addEventListener("click", (event) => {
      if (event.target.closest('[data-action="close-report"]')) dialog.close();
    });
    dialog.addEventListener("close", () => {
      // Focus goes back to the Report button it came from, when that message is still shown.
      if (this.opener?.isConnected) this.opener.focus();
      this.opener = null;
    });
  }

  /** Ask why message `id` (whose text is `text`) should be reported; `opener` gets focus back. */
  open(id, text, opener) {
    this.messageId = id;
    this.requestId = null;
    this.opener = opener;
    this.form.reset();
    this.form.hidden = false;
    this.done.hidden = true;
    this.confirmation.textContent = "";
    this.excerpt.textContent = text;
    this.counter.textContent = counterText("");
    this.#showProblem(null);
    this.#busy(false);
    if (!this.dialog.open) this.dialog.showModal();
    this.input.focus();
  }

  #send() {
    if (this.requestId !== null) return;
    const { reason, problem } = checkReason(this.input.value);
    if (problem) {
      this.#showProblem(problem);
      this.input.focus();
      return;
    }
    const requestId = this.send({ type: "report", id: this.messageId, reason });
    if (!requestId) {
      this.#showProblem("You are offline: the report was not sent. Try again when connected.");
      return;
    }
    this.requestId = requestId;
    this.sent.add(requestId);
    this.#busy(true);
  }

  /**
   * A `reported` or `error` frame: true when it answers a report this dialog sent (shown in
   * the dialog while it waits for it; a refusal of one it stopped waiting for goes to `refused`),
   * false for anything else.
   */
  answer(frame) {
    if (!this.sent.has(frame.request_id)) return false;
    this.sent.delete(frame.request_id);
    this.settle(frame.request_id);
    const text = frame.detail || "The report could not be sent.";
    if (frame.request_id !== this.requestId || !this.dialog.open) {
      // Closed, or moved on to another message, before the answer came.
      if (frame.type !== "reported") this.refused?.(`Your report was not sent: ${text}`);
      if (frame.request_id === this.requestId) {
        this.requestId = null;
        this.#busy(false);
      }
      return true;
    }
    this.requestId = null;
    this.#busy(false);
    if (frame.type === "reported") {
      this.form.hidden = true;
      this.done.hidden = false;
      this.confirmation.textContent = "Thank you. The room's moderators will look at this message.";
      this.closeButton.focus();
    } else {
      this.#showProblem(text);
      this.input.focus();
    }
    return true;
  }

  /** The socket closed: a report sent on it will not be answered. */
  connectionLost() {
    this.sent.clear();
    if (this.requestId === null) return;
    this.requestId = null;
    this.#busy(false);
    this.#showProblem("The connection dropped before the report was confirmed. Try again.");
  }

  #busy(busy) {
    this.submit.disabled = busy;
    this.submit.textContent = busy ? "Sending…" : "Report";
  }

  #showProblem(text) {
    this.problem.textContent = text ?? "";
    this.problem.hidden = !text;
    if (text) this.input.setAttribute("aria-invalid", "true");
    else this.input.removeAttribute("aria-invalid");
  }
}
