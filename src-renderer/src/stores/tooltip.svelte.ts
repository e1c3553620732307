// The one floating tooltip: terms and controls set it on hover or focus, App draws it.
export const tooltip = $state<{ text: string; x: number; y: number; visible: boolean }>({ text: '', x: 0, y: 0, visible: false });

export function showTooltip(text: string, anchor: Element): void {
  const box = anchor.getBoundingClientRect();
  tooltip.text = text;
  tooltip.x = Math.min(box.left, window.innerWidth - 340);
  tooltip.y = box.bottom + 6;
  tooltip.visible = true;
}

export function hideTooltip(): void {
  tooltip.visible = false;
}
