// A ticket's response target clock: which answer is due and the time left, amber in its last
// quarter ("breaching soon"), red once it is past.
import type { Schemas } from '../api/client';
import { timeLeft, waited, when } from '../format';

const CLOCK: Record<Schemas['Clock'], string> = { first_response: 'First response', next_response: 'Next response', resolution: 'Resolution' };

export function Due({ due, now }: { due: Schemas['Due']; now: number }) {
  const state = now >= due.at ? 'breached' : now >= due.soon_at ? 'soon' : 'ok';
  const left = timeLeft(due.at, now);
  const text = state === 'breached' ? `${CLOCK[due.clock]} overdue ${waited(due.at, now)}` : `${CLOCK[due.clock]} due in ${left}`;
  return (
    <span class={`due due-${state}`} data-due={state} data-clock={due.clock} title={`${CLOCK[due.clock]} due by ${when(due.at)}`}>
      {text}
    </span>
  );
}
