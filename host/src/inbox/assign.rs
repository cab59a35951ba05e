//! Who gets which waiting ticket: a pure plan from each agent's room and the team's queue, so
//! the policy (capacity, fairness, order, not back to the agent who let it wait) is tested on
//! its own, as `rules::Working` is. The inbox runs it under its write lock, so no ticket is
//! ever handed to two agents.

use crate::accounts::QueueOrder;
use crate::model::Millis;

/// What an agent holds now.
#[derive(Clone, Debug, PartialEq)]
pub struct Agent {
    pub id: String,
    /// Open tickets (New or Pending) assigned to them.
    pub open: u32,
    /// Of those, private conversations.
    pub conversations: u32,
    /// When they were last handed a ticket (0: never): the longest without one goes first.
    pub last_assigned_at: Millis,
}

/// How much an agent may hold.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Capacity {
    pub total: u32,
    pub conversations: Option<u32>,
    pub public: Option<u32>,
}

/// A ticket waiting in New with nobody on it.
#[derive(Clone, Debug, PartialEq)]
pub struct Waiting {
    pub ticket_id: String,
    pub conversation: bool,
    pub waiting_since: Millis,
    pub flagged: bool,
    /// The agent it was taken from for not answering: not them again.
    pub not: Option<String>,
}

impl Agent {
    fn has_room(&self, c: &Capacity, conversation: bool) -> bool {
        let public = self.open - self.conversations;
        self.open < c.total
            && if conversation { c.conversations.is_none_or(|n| self.conversations < n) } else { c.public.is_none_or(|n| public < n) }
    }
}

/// Hand out `waiting` to the `agents` (all Available) in the team's order: each ticket to the
/// agent with room who was handed one least recently, so nobody gets a second while another
/// with room has had none. Tickets nobody has room for stay waiting. `now` stamps the agents'
/// turns within the plan.
pub fn plan(capacity: &Capacity, order: QueueOrder, agents: &[Agent], waiting: &[Waiting], now: Millis) -> Vec<(String, String)> {
    let mut agents = agents.to_vec();
    let mut queue: Vec<&Waiting> = waiting.iter().collect();
    queue.sort_by_key(|w| (order == QueueOrder::FlaggedFirst && !w.flagged, w.waiting_since, w.ticket_id.clone()));
    let mut out = Vec::new();
    for (turn, w) in queue.into_iter().enumerate() {
        let chosen = agents
            .iter_mut()
            .filter(|a| a.has_room(capacity, w.conversation) && w.not.as_deref() != Some(a.id.as_str()))
            .min_by_key(|a| (a.last_assigned_at, a.open, a.id.clone()));
        if let Some(a) = chosen {
            a.open += 1;
            a.conversations += u32::from(w.conversation);
            a.last_assigned_at = now + turn as Millis + 1;
            out.push((w.ticket_id.clone(), a.id.clone()));
        }
    }
    out
}

/// Whether a ticket handed out at `assigned_at` and still unanswered goes to someone else now.
pub fn overdue(assigned_at: Option<Millis>, after_minutes: Option<u32>, now: Millis) -> bool {
    matches!((assigned_at, after_minutes), (Some(at), Some(m)) if now - at >= i64::from(m) * 60_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(id: &str, open: u32, last: Millis) -> Agent {
        Agent { id: id.into(), open, conversations: open, last_assigned_at: last }
    }

    fn waiting(id: &str, since: Millis) -> Waiting {
        Waiting { ticket_id: id.into(), conversation: true, waiting_since: since, flagged: false, not: None }
    }

    const CAP: Capacity = Capacity { total: 2, conversations: None, public: None };

    #[test]
    fn the_longest_waiting_customer_is_handed_out_first() {
        let plan = plan(&CAP, QueueOrder::LongestWaiting, &[agent("ann", 0, 0)], &[waiting("late", 300), waiting("early", 100)], 1000);
        assert_eq!(plan, [("early".to_string(), "ann".to_string()), ("late".into(), "ann".into())]);
    }

    #[test]
    fn nobody_gets_a_second_ticket_while_another_agent_with_room_has_none() {
        let agents = [agent("ann", 0, 0), agent("bob", 0, 0), agent("cy", 1, 0)];
        let plan = plan(&Capacity { total: 5, ..CAP }, QueueOrder::LongestWaiting, &agents, &[waiting("1", 1), waiting("2", 2), waiting("3", 3), waiting("4", 4)], 1000);
        let to: Vec<&str> = plan.iter().map(|(_, a)| a.as_str()).collect();
        assert_eq!(to, ["ann", "bob", "cy", "ann"]);
    }

    #[test]
    fn the_agent_longest_without_a_new_ticket_goes_first() {
        let plan = plan(&CAP, QueueOrder::LongestWaiting, &[agent("ann", 0, 500), agent("bob", 0, 200)], &[waiting("1", 1)], 1000);
        assert_eq!(plan[0].1, "bob");
    }

    #[test]
    fn nobody_holds_more_than_their_capacity_and_the_rest_keeps_waiting() {
        let plan = plan(&CAP, QueueOrder::LongestWaiting, &[agent("ann", 1, 0)], &[waiting("1", 1), waiting("2", 2)], 1000);
        assert_eq!(plan, [("1".to_string(), "ann".to_string())]);
        assert!(super::plan(&CAP, QueueOrder::LongestWaiting, &[agent("ann", 2, 0)], &[waiting("1", 1)], 1000).is_empty());
    }

    #[test]
    fn conversations_and_comments_have_their_own_room() {
        let cap = Capacity { total: 10, conversations: Some(1), public: Some(2) };
        let comment = |id: &str, since| Waiting { conversation: false, ..waiting(id, since) };
        let plan = plan(&cap, QueueOrder::LongestWaiting, &[agent("ann", 0, 0)], &[waiting("dm1", 1), waiting("dm2", 2), comment("c1", 3), comment("c2", 4), comment("c3", 5)], 1000);
        let got: Vec<&str> = plan.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(got, ["dm1", "c1", "c2"], "one conversation and two comments, the rest waits");
    }

    #[test]
    fn flagged_tickets_go_first_when_the_admin_says_so() {
        let flagged = Waiting { flagged: true, ..waiting("urgent", 900) };
        let plan = plan(&Capacity { total: 1, ..CAP }, QueueOrder::FlaggedFirst, &[agent("ann", 0, 0)], &[waiting("old", 1), flagged.clone()], 1000);
        assert_eq!(plan[0].0, "urgent");
        let plan = super::plan(&Capacity { total: 1, ..CAP }, QueueOrder::LongestWaiting, &[agent("ann", 0, 0)], &[waiting("old", 1), flagged], 1000);
        assert_eq!(plan[0].0, "old");
    }

    #[test]
    fn a_ticket_taken_back_for_no_answer_goes_to_someone_else() {
        let w = Waiting { not: Some("ann".into()), ..waiting("1", 1) };
        assert_eq!(plan(&CAP, QueueOrder::LongestWaiting, &[agent("ann", 0, 0), agent("bob", 1, 900)], &[w.clone()], 1000)[0].1, "bob");
        assert!(plan(&CAP, QueueOrder::LongestWaiting, &[agent("ann", 0, 0)], &[w], 1000).is_empty(), "nobody else: it waits");
    }

    #[test]
    fn an_unanswered_ticket_is_overdue_after_the_admins_minutes() {
        assert!(!overdue(Some(0), Some(10), 9 * 60_000));
        assert!(overdue(Some(0), Some(10), 10 * 60_000));
        assert!(!overdue(None, Some(10), i64::MAX), "never handed out");
        assert!(!overdue(Some(0), None, i64::MAX), "the team does not reassign");
    }
}
