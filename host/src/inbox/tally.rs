//! Every queue's count, kept as tickets are written: the sidebar's counts cost nothing and
//! already hold every write announced to the agents, with no wait for the search index.

use crate::model::{Queue, Ticket};
use std::collections::HashMap;

/// What the counts see of a ticket.
#[derive(Debug, Clone, PartialEq)]
pub struct Shape {
    queue: Queue,
    flagged: bool,
    assignee: Option<String>,
}

impl Shape {
    pub fn of(t: &Ticket) -> Self {
        Shape { queue: t.queue, flagged: t.flagged, assignee: t.assignee.clone() }
    }
}

/// The counts the index gave on start, moved by every write since.
#[derive(Debug, Default, PartialEq)]
pub struct Tally {
    pub new: u64,
    pub pending: u64,
    pub resolved: u64,
    pub archived: u64,
    pub all: u64,
    pub flagged: u64,
    /// New tickets per assignee, for the assignees whose count was asked for (`Tally::knows`).
    open_by_assignee: HashMap<String, u64>,
}

impl Tally {
    pub fn new(new: u64, pending: u64, resolved: u64, archived: u64, all: u64, flagged: u64) -> Self {
        Tally { new, pending, resolved, archived, all, flagged, open_by_assignee: HashMap::new() }
    }

    /// A ticket written: `before` as it was stored (`None` for a new one), `after` as it is now.
    pub fn apply(&mut self, before: Option<&Shape>, after: &Shape) {
        if before == Some(after) {
            return;
        }
        if let Some(b) = before {
            self.count(b, false);
        }
        self.count(after, true);
    }

    fn count(&mut self, s: &Shape, add: bool) {
        let step = |n: &mut u64| *n = if add { *n + 1 } else { n.saturating_sub(1) };
        step(match s.queue {
            Queue::New => &mut self.new,
            Queue::Pending => &mut self.pending,
            Queue::Resolved => &mut self.resolved,
            Queue::Archived => &mut self.archived,
        });
        step(&mut self.all);
        if s.flagged {
            step(&mut self.flagged);
        }
        if matches!(s.queue, Queue::New | Queue::Pending)
            && let Some(n) = s.assignee.as_ref().and_then(|a| self.open_by_assignee.get_mut(a))
        {
            step(n);
        }
    }

    /// Open tickets (New or Pending) assigned to `user`, if this tally follows them.
    pub fn mine(&self, user: &str) -> Option<u64> {
        self.open_by_assignee.get(user).copied()
    }

    /// Follow `user`'s new tickets from `n`, counted at a moment no write was under way.
    pub fn knows(&mut self, user: &str, n: u64) {
        self.open_by_assignee.insert(user.to_string(), n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(queue: Queue, flagged: bool, assignee: Option<&str>) -> Shape {
        Shape { queue, flagged, assignee: assignee.map(Into::into) }
    }

    #[test]
    fn a_new_ticket_counts_once_in_its_queue_and_in_all() {
        let mut t = Tally::default();
        t.apply(None, &shape(Queue::New, false, None));
        t.apply(None, &shape(Queue::Pending, true, None));
        assert_eq!((t.new, t.pending, t.all, t.flagged), (1, 1, 2, 1));
    }

    #[test]
    fn a_ticket_that_moves_leaves_its_old_queue() {
        let mut t = Tally::new(5, 2, 0, 0, 7, 1);
        t.apply(Some(&shape(Queue::New, true, None)), &shape(Queue::Resolved, false, None));
        assert_eq!((t.new, t.pending, t.resolved, t.all, t.flagged), (4, 2, 1, 7, 0));
    }

    #[test]
    fn a_write_that_changes_nothing_counted_leaves_the_counts() {
        let mut t = Tally::new(1, 0, 0, 0, 1, 0);
        t.apply(Some(&shape(Queue::New, false, None)), &shape(Queue::New, false, None));
        assert_eq!(t, Tally::new(1, 0, 0, 0, 1, 0));
    }

    #[test]
    fn an_assignees_open_tickets_are_followed_once_known() {
        let mut t = Tally::new(3, 0, 0, 0, 3, 0);
        t.apply(Some(&shape(Queue::New, false, None)), &shape(Queue::New, false, Some("ann")));
        assert_eq!(t.mine("ann"), None, "not followed yet");
        t.knows("ann", 1);
        t.apply(Some(&shape(Queue::New, false, None)), &shape(Queue::New, false, Some("ann")));
        t.apply(None, &shape(Queue::New, false, Some("bob")));
        assert_eq!(t.mine("ann"), Some(2));
        t.apply(Some(&shape(Queue::New, false, Some("ann"))), &shape(Queue::Pending, false, Some("ann")));
        assert_eq!(t.mine("ann"), Some(2), "a Pending ticket is still hers to follow");
        t.apply(Some(&shape(Queue::Pending, false, Some("ann"))), &shape(Queue::Resolved, false, Some("ann")));
        t.apply(Some(&shape(Queue::New, false, Some("ann"))), &shape(Queue::New, false, Some("bob")));
        assert_eq!(t.mine("ann"), Some(0));
    }
}
