// The files a message carries (ATTACHMENT objects, docs/protocol.md): images as
// thumbnails whose box is reserved from width and height before they load,
// opening full size in a <dialog>; other files as a download row.
// Names only ever go through textContent and attributes, never innerHTML.

// The longer side of a thumbnail box, as the server makes them (files/images.py).
export const THUMBNAIL_SIZE = 400;

export function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A byte count for people: "812 B", "4.2 KB", "18 MB". */
export function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/** The box a thumbnail takes: the image scaled to fit THUMBNAIL_SIZE, never enlarged. */
export function thumbnailBox(width, height, limit = THUMBNAIL_SIZE) {
  const scale = Math.min(1, limit / Math.max(width, height, 1));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** What a download row says about a file: its kind and size. */
export function describe(attachment) {
  const kind =
    attachment.content_type === "application/octet-stream"
      ? (attachment.name.includes(".") ? attachment.name.split(".").pop().toUpperCase() : "File")
      : attachment.content_type;
  return `${kind} · ${formatSize(attachment.size)}`;
}

function imageTile(attachment) {
  const open = element("button", "attachment-image");
  open.type = "button";
  open.dataset.action = "view-image";
  open.dataset.testid = "attachment-image";
  open.dataset.url = attachment.url;
  open.dataset.name = attachment.name;
  open.dataset.width = String(attachment.width);
  open.dataset.height = String(attachment.height);
  open.setAttribute("aria-label", `View ${attachment.name} full size`);
  const image = element("img");
  const box = thumbnailBox(attachment.width, attachment.height);
  // width and height reserve the box (and its aspect ratio) before a byte arrives.
  image.width = box.width;
  image.height = box.height;
  image.alt = attachment.name;
  image.loading = "lazy";
  image.decoding = "async";
  image.src = attachment.thumbnail_url;
  open.append(image);
  return open;
}

function downloadRow(attachment) {
  const link = element("a", "attachment-file");
  link.href = attachment.url;
  link.download = attachment.name;
  link.dataset.testid = "attachment-file";
  const icon = element("span", "attachment-file-icon");
  icon.setAttribute("aria-hidden", "true");
  link.append(
    icon,
    element("span", "attachment-file-name", attachment.name),
    element("span", "attachment-file-meta", describe(attachment)),
  );
  return link;
}

/** The element listing `attachments` (null for none). */
export function attachmentsElement(attachments) {
  if (!attachments?.length) return null;
  const box = element("div", "message-attachments");
  box.dataset.testid = "message-attachments";
  for (const attachment of attachments) {
    const item = element("div", "attachment");
    describeInData(item, attachment);
    item.append(attachment.thumbnail_url ? imageTile(attachment) : downloadRow(attachment));
    box.append(item);
  }
  return box;
}

/** Show a message's attachments under its body, replacing any shown before. */
export function renderAttachments(node, attachments) {
  node.querySelector(".message-attachments")?.remove();
  const box = attachmentsElement(attachments);
  if (box) node.querySelector(".message-body").after(box);
}

// Each .attachment element carries its ATTACHMENT in data attributes, written the
// same way here and by the server (templates/chat/_attachments.html).
function describeInData(item, attachment) {
  item.dataset.attachmentId = String(attachment.id);
  item.dataset.name = attachment.name;
  item.dataset.size = String(attachment.size);
  item.dataset.contentType = attachment.content_type;
  item.dataset.url = attachment.url;
  if (attachment.thumbnail_url) {
    item.dataset.thumbnailUrl = attachment.thumbnail_url;
    item.dataset.width = String(attachment.width);
    item.dataset.height = String(attachment.height);
  }
}

/** The ATTACHMENT objects of a message element (the server's or ours). */
export function readAttachments(node) {
  return Array.from(node.querySelectorAll(".message-attachments [data-attachment-id]"), (item) => {
    const data = item.dataset;
    return {
      id: Number(data.attachmentId),
      name: data.name,
      size: Number(data.size),
      content_type: data.contentType,
      url: data.url,
      thumbnail_url: data.thumbnailUrl ?? null,
      width: data.thumbnailUrl ? Number(data.width) : null,
      height: data.thumbnailUrl ? Number(data.height) : null,
    };
  });
}

// The full-size viewer ------------------------------------------------------

let viewer = null;

function makeViewer() {
  const dialog = element("dialog", "image-viewer");
  dialog.dataset.testid = "image-viewer";
  dialog.setAttribute("aria-labelledby", "image-viewer-title");
  const header = element("div", "image-viewer-header");
  const title = element("h2", "image-viewer-title");
  title.id = "image-viewer-title";
  const download = element("a", "button button-small", "Download");
  download.dataset.testid = "image-viewer-download";
  const close = element("button", "button button-small", "Close");
  close.type = "button";
  close.dataset.testid = "image-viewer-close";
  close.addEventListener("click", () => dialog.close());
  header.append(title, download, close);
  const image = element("img", "image-viewer-image");
  dialog.append(header, image);
  // A click on the backdrop (the dialog itself, outside its content) closes it.
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) dialog.close();
  });
  dialog.addEventListener("close", () => {
    image.removeAttribute("src");
    const opener = viewer.opener;
    viewer.opener = null;
    if (opener?.isConnected) opener.focus();
  });
  document.body.append(dialog);
  return { dialog, title, download, image, close, opener: null };
}

/** Open the viewer on the image behind `button` (an .attachment-image); Escape closes it. */
export function openViewer(button) {
  viewer ??= makeViewer();
  const { dialog, title, download, image, close } = viewer;
  viewer.opener = button;
  title.textContent = button.dataset.name;
  download.href = button.dataset.url;
  download.download = button.dataset.name;
  image.alt = button.dataset.name;
  image.width = Number(button.dataset.width);
  image.height = Number(button.dataset.height);
  image.src = button.dataset.url;
  dialog.showModal();
  close.focus();
}

/** Open images of the message list full size when their thumbnail is activated. */
export function bindViewer(list) {
  list.addEventListener("click", (event) => {
    const button = event.target.closest('button[data-action="view-image"]');
    if (button) openViewer(button);
  });
}
