// Files on their way into a message: picked with the Attach button, dropped on
// the room or pasted into the composer, each uploaded at once to
// POST /chat/<room>/upload/ (docs/protocol.md) with a progress bar and a
// cancel button, and sent with the next message as its `attachments`.
import { describe, element, formatSize } from "./attachments.js";

// The server's limits (docs/protocol.md#limits): refused here before a byte is sent.
export const MAX_ATTACHMENTS = 10;

const UPLOAD_ERRORS = {
  too_large: "is too large",
  quota: "is over your daily upload allowance",
  bad_image: "looks like an image but is damaged",
  empty: "is empty",
  rate_limited: "was refused: you are uploading too fast",
  muted: "was refused: you are muted here",
  room_locked: "was refused: the room is locked",
  banned: "was refused: you are banned here",
};

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

/** Why an upload failed, in words, from the XMLHttpRequest that made it. */
export function uploadError(status, body, name, maxUpload) {
  const code = body && typeof body === "object" ? body.error : null;
  if (code && UPLOAD_ERRORS[code]) {
    const limit = code === "too_large" && maxUpload ? ` (the limit is ${formatSize(maxUpload)})` : "";
    return `${name} ${UPLOAD_ERRORS[code]}${limit}.`;
  }
  if (status === 413) return `${name} is too large.`;
  if (status === 0) return `${name} could not be uploaded: the connection failed.`;
  return `${name} could not be uploaded.`;
}

export class Uploads {
  /**
   * `tray`: the list the pending files are shown in; `url`: the upload endpoint;
   * `onError(text)`: tell the reader; `maxUpload`: bytes per file (from the page).
   */
  constructor({ tray, url, onError, maxUpload }) {
    this.tray = tray;
    this.url = url;
    this.onError = onError;
    this.maxUpload = maxUpload;
    this.items = []; // {file, request, attachment, node, progress}
  }

  /** Files ready to go with the next message (ATTACHMENT objects, in the order added). */
  ready() {
    return this.items.filter((item) => item.attachment).map((item) => item.attachment);
  }

  /** Whether a file is still on its way up. */
  busy() {
    return this.items.some((item) => !item.attachment);
  }

  /** Upload each of `files` (a FileList or array). */
  add(files) {
    for (const file of files) {
      if (this.items.length >= MAX_ATTACHMENTS) {
        this.onError(`A message carries at most ${MAX_ATTACHMENTS} files.`);
        return;
      }
      if (file.size === 0) {
        this.onError(`${file.name} is empty.`);
        continue;
      }
      if (this.maxUpload && file.size > this.maxUpload) {
        this.onError(`${file.name} is too large (the limit is ${formatSize(this.maxUpload)}).`);
        continue;
      }
      this.#start(file);
    }
  }

  /** The files went out with a message: empty the tray. */
  sent() {
    for (const item of this.items) item.node.remove();
    this.items = [];
    this.#refresh();
  }

  /** A message was refused for good: its files come back to the tray. */
  restore(attachments) {
    for (const attachment of attachments) {
      if (this.items.some((item) => item.attachment?.id === attachment.id)) continue;
      const item = { file: null, request: null, attachment, node: null, progress: null };
      item.node = this.#row(item, attachment.name);
      this.#done(item, attachment);
      this.items.push(item);
    }
    this.#refresh();
  }

  #start(file) {
    const item = { file, request: new XMLHttpRequest(), attachment: null, node: null, progress: null };
    item.node = this.#row(item, file.name);
    this.items.push(item);
    this.#refresh();
    const { request } = item;
    request.open("POST", this.url);
    request.responseType = "json";
    request.setRequestHeader("X-CSRFToken", csrfToken());
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) {
        item.progress.max = event.total;
        item.progress.value = event.loaded;
      }
    });
    request.addEventListener("load", () => {
      if (request.status === 201 && request.response?.attachment) {
        this.#done(item, request.response.attachment);
      } else {
        this.#drop(item);
        this.onError(uploadError(request.status, request.response, file.name, this.maxUpload));
      }
    });
    request.addEventListener("error", () => {
      this.#drop(item);
      this.onError(uploadError(0, null, file.name, this.maxUpload));
    });
    const form = new FormData();
    form.append("file", file, file.name);
    request.send(form);
  }

  #row(item, name) {
    const node = element("li", "upload");
    node.dataset.testid = "upload";
    node.dataset.state = "uploading";
    const label = element("span", "upload-name", name);
    const progress = element("progress", "upload-progress");
    progress.dataset.testid = "upload-progress";
    progress.setAttribute("aria-label", `Uploading ${name}`);
    progress.max = 1;
    progress.value = 0;
    const cancel = element("button", "button button-small upload-cancel", "Cancel");
    cancel.type = "button";
    cancel.dataset.testid = "upload-cancel";
    cancel.setAttribute("aria-label", `Cancel ${name}`);
    cancel.addEventListener("click", () => {
      item.request?.abort();
      this.#drop(item);
    });
    node.append(label, progress, cancel);
    item.progress = progress;
    this.tray.append(node);
    return node;
  }

  #done(item, attachment) {
    item.attachment = attachment;
    item.request = null;
    const { node } = item;
    node.dataset.state = "ready";
    node.dataset.attachmentId = String(attachment.id);
    item.progress.replaceWith(element("span", "upload-meta", describe(attachment)));
    const cancel = node.querySelector(".upload-cancel");
    cancel.textContent = "Remove";
    cancel.setAttribute("aria-label", `Remove ${attachment.name}`);
    this.#refresh();
  }

  #drop(item) {
    item.node.remove();
    this.items = this.items.filter((other) => other !== item);
    this.#refresh();
  }

  #refresh() {
    this.tray.hidden = this.items.length === 0;
  }
}

/**
 * Give the composer its Attach button and tray, and take files from the
 * button, from drops on `dropZone` and from pastes into the composer.
 */
export function bindUploads({ form, composer, dropZone, url, maxUpload, onError }) {
  const tray = element("ul", "upload-tray");
  tray.dataset.testid = "upload-tray";
  tray.setAttribute("aria-label", "Files to send");
  tray.hidden = true;
  // Never shown: the Attach button opens its file picker.
  const input = element("input");
  input.type = "file";
  input.multiple = true;
  input.hidden = true;
  input.dataset.testid = "attach-input";
  const attach = element("button", "button attach-button", "Attach");
  attach.type = "button";
  attach.dataset.testid = "attach";
  attach.setAttribute("aria-label", "Attach files");
  const box = form.querySelector(".composer-box");
  box.prepend(attach, input);
  form.prepend(tray);

  const uploads = new Uploads({ tray, url, maxUpload, onError });
  attach.addEventListener("click", () => input.click());
  input.addEventListener("change", () => {
    uploads.add(input.files);
    input.value = "";
    composer.focus();
  });
  composer.addEventListener("paste", (event) => {
    const files = event.clipboardData?.files;
    if (files?.length) {
      event.preventDefault();
      uploads.add(files);
    }
  });
  const carriesFiles = (event) => event.dataTransfer?.types?.includes("Files");
  dropZone.addEventListener("dragover", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    dropZone.classList.add("is-dropping");
  });
  dropZone.addEventListener("dragleave", (event) => {
    if (!dropZone.contains(event.relatedTarget)) dropZone.classList.remove("is-dropping");
  });
  dropZone.addEventListener("drop", (event) => {
    dropZone.classList.remove("is-dropping");
    if (!carriesFiles(event)) return;
    event.preventDefault();
    uploads.add(event.dataTransfer.files);
  });
  return uploads;
}
