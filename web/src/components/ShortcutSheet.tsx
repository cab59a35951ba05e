// The keyboard shortcuts, on `?`.
export const SHORTCUTS: [string, string][] = [
  ['j / k', 'Next / previous ticket'],
  ['Enter or o', 'Open the selected ticket'],
  ['r', 'Reply'],
  ['n', 'Add an internal note'],
  ['Ctrl+Enter', 'Send the reply or note'],
  ['Ctrl+Shift+Enter', 'Send the reply and resolve'],
  ['e', 'Resolve (or reopen) and open the next ticket'],
  ['x', 'Archive and open the next ticket'],
  ['Ctrl+K', 'Commands: any action, a queue, a ticket'],
  ['i', 'Assign to me'],
  ['f', 'Flag / unflag'],
  ['/', 'Search'],
  ['Esc', 'Close the ticket or this sheet'],
  ['?', 'Show this sheet'],
];

export function ShortcutSheet({ onClose }: { onClose: () => void }) {
  return (
    <div class="overlay" onClick={onClose}>
      <div class="sheet" role="dialog" aria-label="Keyboard shortcuts" onClick={(e) => e.stopPropagation()}>
        <h2>Keyboard shortcuts</h2>
        <table>
          {SHORTCUTS.map(([k, what]) => (
            <tr>
              <td>
                <kbd>{k}</kbd>
              </td>
              <td>{what}</td>
            </tr>
          ))}
        </table>
        <button onClick={onClose}>Close</button>
      </div>
    </div>
  );
}
