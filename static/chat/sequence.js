// Detects missed broadcasts: a room's messages are numbered 1, 2, 3, ... by `seq`
// with no holes, so a jump means the channel layer dropped one for this socket.

export class SequenceTracker {
  /** `seq` and `id`: the last message known to follow an unbroken run. */
  constructor(seq = 0, id = 0) {
    this.seq = seq;
    this.id = id;
    this.ahead = new Map(); // seq -> id of messages that arrived past a hole
    this.target = 0; // a seq the server reported (pong) that we have not reached
  }

  get hasGap() {
    return this.ahead.size > 0 || this.target > this.seq;
  }

  /** A live message arrived; returns whether a hole is now open. */
  see(seq, id) {
    if (seq > this.seq) {
      this.ahead.set(seq, id);
      this.#advance();
    }
    return this.hasGap;
  }

  /** The server's latest seq (from pong); returns whether we are behind it. */
  expect(seq) {
    if (seq > this.seq) this.target = Math.max(this.target, seq);
    return this.hasGap;
  }

  /**
   * The server sent every stored message with id > this.id, oldest first
   * (hello on resume, or history `after`); `complete` when nothing newer is left.
   * Deleted messages never come back, so only `complete` can close a hole they leave.
   */
  caughtUp(messages, complete) {
    for (const message of messages) {
      if (message.seq > this.seq) this.seq = message.seq;
      if (message.id > this.id) this.id = message.id;
    }
    if (complete) {
      for (const [seq, id] of this.ahead) {
        this.seq = Math.max(this.seq, seq);
        this.id = Math.max(this.id, id);
      }
      this.seq = Math.max(this.seq, this.target);
      this.ahead.clear();
      this.target = 0;
      return;
    }
    for (const seq of this.ahead.keys()) {
      if (seq <= this.seq) this.ahead.delete(seq);
    }
    this.#advance();
  }

  #advance() {
    while (this.ahead.has(this.seq + 1)) {
      this.seq += 1;
      this.id = Math.max(this.id, this.ahead.get(this.seq));
      this.ahead.delete(this.seq);
    }
    if (this.target <= this.seq) this.target = 0;
  }
}
