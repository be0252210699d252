/** Saving results as files: one hidden link click, the object URL released afterwards. */
export function downloadBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function downloadText(text: string, fileName: string, type: string): void {
  downloadBlob(new Blob([text], { type }), fileName);
}

/** A file-name stem from a slide name: no extension, only safe characters. */
export function fileStem(name: string | undefined, fallback = 'slide'): string {
  return (name ?? fallback).replace(/\.[^.]+$/, '').replace(/[^\w.-]+/g, '_') || fallback;
}
