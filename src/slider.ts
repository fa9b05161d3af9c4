// The state of an OIP card's step slider, apart from the DOM so jest can test
// it: it follows the newest snapshot until the user moves it back, and holds
// the user's choice while the range grows.

export class SnapshotSlider {
  /** At the right end: shows the newest (live) image and follows it. */
  following = true;
  /** The snapshot the user picked (null while following). */
  wanted: number | null = null;
  /** The slider's largest index (kept snapshots - 1). */
  max = 0;

  /** The kept snapshot count changed; returns the slider's value. */
  setCount(count: number): number {
    this.max = Math.max(0, count - 1);
    if (this.following || this.wanted === null || this.wanted >= this.max) {
      this.following = true;
      this.wanted = null;
      return this.max;
    }
    return this.wanted;
  }

  /** The user moved the slider to `index`: the snapshot to ask the kernel
   *  for, or null when back at the newest (follow it again). */
  move(index: number): number | null {
    const i = Math.max(0, Math.min(Math.round(index), this.max));
    this.following = i >= this.max;
    this.wanted = this.following ? null : i;
    return this.wanted;
  }

  /** Whether a fetched snapshot is the one the slider asks to show. */
  shows(frame: { index: number } | undefined): boolean {
    return !this.following && frame !== undefined && frame.index === this.wanted;
  }
}
