//! Who is working, and with whom: each person's availability (Available, Away, or an away
//! status an admin added, such as "Lunch"), and teams of agents with the channels they answer
//! and how their work is handed out. The routing itself (who gets which ticket) is the inbox's.

use super::{AccountError, Accounts};
use crate::model::{now_ms, stable_id, Millis};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An agent's availability. Every status but `available` counts as away.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", from = "String")]
pub enum Status {
    Available,
    Away,
    /// An away status an admin added ("Lunch", "Training").
    Custom(String),
}

impl Status {
    pub fn is_available(&self) -> bool {
        *self == Status::Available
    }
}

impl From<Status> for String {
    fn from(s: Status) -> String {
        match s {
            Status::Available => "available".into(),
            Status::Away => "away".into(),
            Status::Custom(c) => c,
        }
    }
}

impl From<String> for Status {
    fn from(s: String) -> Status {
        match s.as_str() {
            "available" => Status::Available,
            "away" => Status::Away,
            _ => Status::Custom(s),
        }
    }
}

/// Someone's availability now, and the status they come back to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Availability {
    pub user_id: String,
    /// `available`, `away`, or an away status an admin added.
    #[schema(value_type = String, example = "available")]
    pub status: Status,
    /// What they return to when they open the helpdesk again after being set Away for idling.
    #[schema(value_type = String)]
    pub default_status: Status,
    /// Set Away by the host because no helpdesk page of theirs was open.
    pub idle: bool,
    pub since: Millis,
}

/// The admin's settings for availability.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AvailabilitySettings {
    /// Away statuses besides "away", in the order the menu shows them.
    #[serde(default)]
    pub statuses: Vec<String>,
    /// An agent with no helpdesk page open this many minutes becomes Away (0: never).
    #[serde(default)]
    pub idle_minutes: u32,
}

/// In what order a team's waiting tickets are handed out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QueueOrder {
    /// The customer who has waited longest first.
    #[default]
    LongestWaiting,
    /// Flagged tickets first, then the longest waiting.
    FlaggedFirst,
}

/// A time of day range, local to the schedule: `09:00` to `17:30`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Span {
    pub from: String,
    pub to: String,
}

/// A stretch of time someone was Available.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct AvailableSpan {
    user_id: String,
    began: Millis,
    ended: Millis,
}

/// When a team works: a week of spans (Monday first) in a time zone, and holidays.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    /// An IANA time zone: `Europe/Berlin`.
    pub timezone: String,
    /// Seven days, Monday first; a day with no spans is closed.
    pub week: Vec<Vec<Span>>,
    /// Closed all day (`2026-12-25`), in the schedule's time zone.
    #[serde(default)]
    pub holidays: Vec<String>,
}

fn minutes(hhmm: &str) -> Option<u32> {
    let (h, m) = hhmm.split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 24 && m < 60 && h * 60 + m <= 24 * 60).then_some(h * 60 + m)
}

impl Schedule {
    /// Why it cannot work, if it cannot.
    pub fn check(&self) -> Result<(), String> {
        self.timezone.parse::<chrono_tz::Tz>().map_err(|_| format!("`{}` is not a time zone (e.g. Europe/Berlin)", self.timezone))?;
        if self.week.len() != 7 {
            return Err("a week has 7 days, Monday first".into());
        }
        for span in self.week.iter().flatten() {
            match (minutes(&span.from), minutes(&span.to)) {
                (Some(a), Some(b)) if a < b => {}
                _ => return Err(format!("{}–{} is not a time range (HH:MM to a later HH:MM)", span.from, span.to)),
            }
        }
        for h in &self.holidays {
            chrono::NaiveDate::parse_from_str(h, "%Y-%m-%d").map_err(|_| format!("holiday `{h}` is not a date (YYYY-MM-DD)"))?;
        }
        Ok(())
    }

    /// The open spans from `from` on, day by day for a year: `(open, close)` in milliseconds,
    /// the first starting at `from` if open then. Nothing if the time zone is unknown.
    fn open_spans(&self, from: Millis) -> impl Iterator<Item = (Millis, Millis)> + '_ {
        use chrono::{Datelike, TimeZone};
        let tz = self.timezone.parse::<chrono_tz::Tz>().ok();
        let first = tz.and_then(|tz| tz.timestamp_millis_opt(from).single().map(|d| (tz, d.date_naive())));
        first.into_iter().flat_map(move |(tz, first)| {
            first.iter_days().take(367).flat_map(move |day| {
                let holiday = self.holidays.iter().any(|h| *h == day.format("%Y-%m-%d").to_string());
                let spans = if holiday { &[][..] } else { self.week.get(day.weekday().num_days_from_monday() as usize).map(Vec::as_slice).unwrap_or(&[]) };
                spans.iter().filter_map(move |span| {
                    let (a, b) = (minutes(&span.from)?, minutes(&span.to)?);
                    // A local time the clocks skip (a DST change) starts at the next that exists.
                    let at = |m: u32| {
                        let t = day.and_hms_opt(0, 0, 0).expect("midnight") + chrono::Duration::minutes(i64::from(m));
                        tz.from_local_datetime(&t).earliest().or_else(|| tz.from_local_datetime(&(t + chrono::Duration::hours(1))).earliest()).map(|d| d.timestamp_millis())
                    };
                    let (open, close) = (at(a)?.max(from), at(b)?);
                    (open < close).then_some((open, close))
                })
            })
        })
    }

    /// The moment `ms` milliseconds of open time have passed since `from`; `None` if the
    /// schedule does not open that long within a year.
    pub fn after_open(&self, from: Millis, ms: i64) -> Option<Millis> {
        let mut left = ms;
        for (start, close) in self.open_spans(from) {
            if left <= close - start {
                return Some(start + left);
            }
            left -= close - start;
        }
        None
    }

    /// How many milliseconds of open time lie between `from` and `to` (at most a year's).
    pub fn open_between(&self, from: Millis, to: Millis) -> Millis {
        if to <= from {
            return 0;
        }
        self.open_spans(from).take_while(|(open, _)| *open < to).map(|(open, close)| close.min(to) - open).sum()
    }

    /// Open at `ms` (since the epoch)?
    pub fn open_at(&self, ms: i64) -> bool {
        use chrono::{Datelike, TimeZone, Timelike};
        let Ok(tz) = self.timezone.parse::<chrono_tz::Tz>() else { return false };
        let Some(local) = tz.timestamp_millis_opt(ms).single() else { return false };
        if self.holidays.iter().any(|h| *h == local.format("%Y-%m-%d").to_string()) {
            return false;
        }
        let now = local.hour() * 60 + local.minute();
        let day = local.weekday().num_days_from_monday() as usize;
        self.week.get(day).into_iter().flatten().any(|s| matches!((minutes(&s.from), minutes(&s.to)), (Some(a), Some(b)) if a <= now && now < b))
    }
}

/// Agents who answer the same channels, and how their tickets are handed out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Team {
    pub id: String,
    pub name: String,
    /// User ids.
    pub members: Vec<String>,
    /// Channel ids whose tickets are this team's.
    pub channels: Vec<String>,
    /// Hand each waiting ticket to an Available member with room.
    pub auto_assign: bool,
    /// Open tickets (New or Pending) an agent holds at most.
    pub capacity: u32,
    /// At most this many private conversations among them, where set.
    #[serde(default)]
    pub conversation_capacity: Option<u32>,
    /// At most this many public items (comments, reviews, mentions) among them, where set.
    #[serde(default)]
    pub public_capacity: Option<u32>,
    #[serde(default)]
    pub order: QueueOrder,
    /// When a member goes Away, the tickets they have not answered return to the queue.
    #[serde(default)]
    pub return_when_away: bool,
    /// A ticket handed out and not answered within this many minutes goes to someone else.
    #[serde(default)]
    pub reassign_after_minutes: Option<u32>,
    /// When the team works (rules can act inside or outside these hours).
    #[serde(default)]
    pub business_hours: Option<Schedule>,
    pub created_at: Millis,
}

/// A team as an admin writes it.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamInput {
    pub name: String,
    #[serde(default)]
    pub members: Vec<String>,
    #[serde(default)]
    pub channels: Vec<String>,
    #[serde(default)]
    pub auto_assign: bool,
    /// Default 5.
    pub capacity: Option<u32>,
    pub conversation_capacity: Option<u32>,
    pub public_capacity: Option<u32>,
    #[serde(default)]
    pub order: QueueOrder,
    #[serde(default)]
    pub return_when_away: bool,
    pub reassign_after_minutes: Option<u32>,
    pub business_hours: Option<Schedule>,
}

const SETTINGS_ID: &str = "availability";
/// The settings record of channels' own business hours.
const CHANNEL_HOURS_ID: &str = "channel_hours";

/// What one agent is notified of (in the tab, with a sound, and by the browser when the tab is
/// hidden), and the channels they hear nothing from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationPrefs {
    /// A ticket handed to me.
    #[serde(default = "on")]
    #[schema(required = true)]
    pub assigned: bool,
    /// A customer's new message in my ticket.
    #[serde(default = "on")]
    #[schema(required = true)]
    pub customer_message: bool,
    /// A note that @mentions me.
    #[serde(default = "on")]
    #[schema(required = true)]
    pub mention: bool,
    /// My ticket is about to miss its response target.
    #[serde(default = "on")]
    #[schema(required = true)]
    pub breach: bool,
    /// A short sound with each notification.
    #[serde(default = "on")]
    #[schema(required = true)]
    pub sound: bool,
    /// Channels (ids) whose tickets notify me of nothing.
    #[serde(default)]
    #[schema(required = true)]
    pub muted_channels: Vec<String>,
    /// While I am away, an email now and then of what I missed (the installation's mail).
    #[serde(default)]
    #[schema(required = true)]
    pub email_digest: bool,
}

fn on() -> bool {
    true
}

impl Default for NotificationPrefs {
    fn default() -> Self {
        NotificationPrefs { assigned: true, customer_message: true, mention: true, breach: true, sound: true, muted_channels: Vec::new(), email_digest: false }
    }
}

/// A value stored in a field of its record: the record's top level also holds its id, which a
/// map or a strict struct would not take.
#[derive(Serialize, Deserialize)]
struct Kept<T> {
    value: T,
}

/// Whether business hours are open at `at` for `channel`: its own hours, else its team's;
/// none when neither has hours.
pub fn hours_open(teams: &[Team], channel_hours: &std::collections::BTreeMap<String, Schedule>, channel: &str, at: Millis) -> Option<bool> {
    hours_of(teams, channel_hours, channel).map(|h| h.open_at(at))
}

/// A channel's business hours: its own, else its team's.
pub fn hours_of<'a>(teams: &'a [Team], channel_hours: &'a std::collections::BTreeMap<String, Schedule>, channel: &str) -> Option<&'a Schedule> {
    channel_hours.get(channel).or_else(|| teams.iter().find(|t| t.channels.iter().any(|c| c == channel)).and_then(|t| t.business_hours.as_ref()))
}
const MAX_CAPACITY: u32 = 500;

impl Accounts {
    pub async fn availability_settings(&self) -> Result<AvailabilitySettings, AccountError> {
        Ok(self.store.get("settings", SETTINGS_ID).await?.unwrap_or_default())
    }

    pub async fn set_availability_settings(&self, s: AvailabilitySettings) -> Result<AvailabilitySettings, AccountError> {
        let mut statuses: Vec<String> = Vec::new();
        for label in s.statuses {
            let label = label.trim().to_string();
            if label.is_empty() || label.chars().count() > 40 {
                return Err(AccountError::BadRequest("a status is 1 to 40 characters".into()));
            }
            if ["available", "away"].contains(&label.to_lowercase().as_str()) || statuses.iter().any(|s| s.eq_ignore_ascii_case(&label)) {
                return Err(AccountError::BadRequest(format!("the status `{label}` is there already")));
            }
            statuses.push(label);
        }
        if statuses.len() > 20 {
            return Err(AccountError::BadRequest("at most 20 statuses".into()));
        }
        if s.idle_minutes > 24 * 60 {
            return Err(AccountError::BadRequest("idle_minutes is at most 1440 (a day)".into()));
        }
        let s = AvailabilitySettings { statuses, idle_minutes: s.idle_minutes };
        self.store.put("settings", SETTINGS_ID, &s).await?;
        Ok(s)
    }

    /// Everyone's availability; someone never set is Available.
    pub async fn availabilities(&self) -> Result<Vec<Availability>, AccountError> {
        let stored: Vec<Availability> = self.store.all("availability", "user_id").await?;
        let users = self.users().await?;
        Ok(users
            .into_iter()
            .filter(|u| !u.disabled)
            .map(|u| stored.iter().find(|a| a.user_id == u.id).cloned().unwrap_or_else(|| fresh(&u.id)))
            .collect())
    }

    pub async fn availability(&self, user_id: &str) -> Result<Availability, AccountError> {
        Ok(self.store.get("availability", user_id).await?.unwrap_or_else(|| fresh(user_id)))
    }

    /// Set someone's status (and the one they come back to after idling). Returns the new
    /// availability and whether it changed between available and away.
    pub async fn set_status(&self, user_id: &str, status: Option<Status>, default_status: Option<Status>) -> Result<(Availability, bool), AccountError> {
        let settings = self.availability_settings().await?;
        for s in status.iter().chain(default_status.iter()) {
            if let Status::Custom(c) = s {
                if !settings.statuses.contains(c) {
                    return Err(AccountError::BadRequest(format!("no status `{c}`: available, away or one of {:?}", settings.statuses)));
                }
            }
        }
        let mut a = self.availability(user_id).await?;
        let was = a.status.is_available();
        if let Some(s) = status {
            if s != a.status {
                self.ended(&a).await?;
                a.since = now_ms();
            }
            a.status = s;
            a.idle = false;
        }
        if let Some(d) = default_status {
            a.default_status = d;
        }
        self.store.put("availability", user_id, &a).await?;
        Ok((a.clone(), was != a.status.is_available()))
    }

    /// Away for idling (no page open), remembered so that coming back restores their default.
    pub async fn set_idle(&self, user_id: &str, idle: bool) -> Result<Option<Availability>, AccountError> {
        let mut a = self.availability(user_id).await?;
        match (idle, a.idle) {
            (true, false) if a.status.is_available() => {
                a.status = Status::Away;
                a.idle = true;
            }
            (false, true) => {
                a.status = a.default_status.clone();
                a.idle = false;
            }
            _ => return Ok(None),
        }
        if !a.status.is_available() {
            // Was available until now.
            self.ended(&Availability { status: Status::Available, ..a.clone() }).await?;
        }
        a.since = now_ms();
        self.store.put("availability", user_id, &a).await?;
        Ok(Some(a))
    }

    /// `a` ends now: a stretch of being Available is kept for the agents' report.
    async fn ended(&self, a: &Availability) -> Result<(), AccountError> {
        if !a.status.is_available() || a.since == 0 {
            return Ok(());
        }
        let span = AvailableSpan { user_id: a.user_id.clone(), began: a.since, ended: now_ms() };
        self.store.put("available_span", &stable_id(&a.user_id, &format!("available:{}", a.since)), &span).await?;
        Ok(())
    }

    /// How long each person was Available between `from` and `to`, stretches that ended and
    /// the one going on now.
    pub async fn available_ms(&self, from: Millis, to: Millis) -> Result<std::collections::BTreeMap<String, Millis>, AccountError> {
        let mut spans: Vec<AvailableSpan> = self.store.select_where("SELECT user_id, began, ended FROM available_span WHERE ended > $from AND began < $to", serde_json::json!({ "from": from, "to": to })).await?;
        let now = now_ms();
        for a in self.availabilities().await? {
            if a.status.is_available() && a.since > 0 {
                spans.push(AvailableSpan { user_id: a.user_id, began: a.since, ended: now });
            }
        }
        let mut total = std::collections::BTreeMap::new();
        for s in spans {
            let ms = s.ended.min(to) - s.began.max(from);
            if ms > 0 {
                *total.entry(s.user_id).or_insert(0) += ms;
            }
        }
        Ok(total)
    }

    pub async fn teams(&self) -> Result<Vec<Team>, AccountError> {
        Ok(self.store.all("team", "name").await?)
    }

    pub async fn team(&self, id: &str) -> Result<Team, AccountError> {
        self.store.get("team", id).await?.ok_or_else(|| AccountError::NotFound(format!("no team `{id}`")))
    }

    /// Create (no `id`) or replace a team, checked: its members exist, its capacities can work.
    pub async fn save_team(&self, id: Option<&str>, input: TeamInput) -> Result<Team, AccountError> {
        let name = input.name.trim().to_string();
        if name.is_empty() || name.chars().count() > 60 {
            return Err(AccountError::BadRequest("a team's name is 1 to 60 characters".into()));
        }
        let users = self.users().await?;
        let mut members = input.members.clone();
        members.sort();
        members.dedup();
        for m in &members {
            if !users.iter().any(|u| &u.id == m && !u.disabled) {
                return Err(AccountError::BadRequest(format!("no user `{m}` to be a member")));
            }
        }
        let capacity = input.capacity.unwrap_or(5);
        if capacity == 0 || capacity > MAX_CAPACITY {
            return Err(AccountError::BadRequest(format!("capacity is 1 to {MAX_CAPACITY} open tickets")));
        }
        for (what, c) in [("conversation_capacity", input.conversation_capacity), ("public_capacity", input.public_capacity)] {
            if c.is_some_and(|c| c == 0 || c > capacity) {
                return Err(AccountError::BadRequest(format!("{what} is 1 to the capacity ({capacity})")));
            }
        }
        if input.reassign_after_minutes.is_some_and(|m| m == 0 || m > 7 * 24 * 60) {
            return Err(AccountError::BadRequest("reassign_after_minutes is 1 to 10080 (a week)".into()));
        }
        if let Some(h) = &input.business_hours {
            h.check().map_err(AccountError::BadRequest)?;
        }
        let teams = self.teams().await?;
        let id = match id {
            Some(id) => {
                self.team(id).await?;
                id.to_string()
            }
            None => stable_id("team", &format!("{name}:{}", now_ms())),
        };
        if teams.iter().any(|t| t.id != id && t.name.eq_ignore_ascii_case(&name)) {
            return Err(AccountError::Conflict(format!("a team named {name} exists")));
        }
        let mut channels = input.channels.clone();
        channels.sort();
        channels.dedup();
        if let Some((other, ch)) = teams.iter().filter(|t| t.id != id).find_map(|t| channels.iter().find(|c| t.channels.contains(c)).map(|c| (t, c))) {
            return Err(AccountError::Conflict(format!("the channel `{ch}` is the team {}'s already: a channel routes to one team", other.name)));
        }
        let created_at = teams.iter().find(|t| t.id == id).map(|t| t.created_at).unwrap_or_else(now_ms);
        let team = Team {
            id: id.clone(),
            name,
            members,
            channels,
            auto_assign: input.auto_assign,
            capacity,
            conversation_capacity: input.conversation_capacity,
            public_capacity: input.public_capacity,
            order: input.order,
            return_when_away: input.return_when_away,
            reassign_after_minutes: input.reassign_after_minutes,
            business_hours: input.business_hours,
            created_at,
        };
        self.store.put("team", &id, &team).await?;
        Ok(team)
    }

    pub async fn delete_team(&self, id: &str) -> Result<(), AccountError> {
        self.team(id).await?;
        Ok(self.store.delete("team", id).await?)
    }

    pub async fn notification_prefs(&self, user_id: &str) -> Result<NotificationPrefs, AccountError> {
        let kept: Option<Kept<NotificationPrefs>> = self.store.get("notification_prefs", user_id).await?;
        Ok(kept.map(|k| k.value).unwrap_or_default())
    }

    pub async fn set_notification_prefs(&self, user_id: &str, mut prefs: NotificationPrefs) -> Result<NotificationPrefs, AccountError> {
        prefs.muted_channels.sort();
        prefs.muted_channels.dedup();
        if prefs.muted_channels.len() > 500 {
            return Err(AccountError::BadRequest("at most 500 muted channels".into()));
        }
        self.store.put("notification_prefs", user_id, &Kept { value: prefs.clone() }).await?;
        Ok(prefs)
    }

    /// Channels' own business hours (over their team's), by channel id.
    pub async fn channel_hours(&self) -> Result<std::collections::BTreeMap<String, Schedule>, AccountError> {
        let kept: Option<Kept<std::collections::BTreeMap<String, Schedule>>> = self.store.get("settings", CHANNEL_HOURS_ID).await?;
        Ok(kept.map(|k| k.value).unwrap_or_default())
    }

    /// Set (or with none, remove) one channel's own business hours.
    pub async fn set_channel_hours(&self, channel: &str, hours: Option<Schedule>) -> Result<std::collections::BTreeMap<String, Schedule>, AccountError> {
        let mut all = self.channel_hours().await?;
        match hours {
            Some(h) => {
                h.check().map_err(AccountError::BadRequest)?;
                all.insert(channel.to_string(), h);
            }
            None => {
                all.remove(channel);
            }
        }
        self.store.put("settings", CHANNEL_HOURS_ID, &Kept { value: all.clone() }).await?;
        Ok(all)
    }
}

fn fresh(user_id: &str) -> Availability {
    Availability { user_id: user_id.to_string(), status: Status::Available, default_status: Status::Available, idle: false, since: 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nine_to_five(tz: &str) -> Schedule {
        let day = vec![Span { from: "09:00".into(), to: "17:00".into() }];
        Schedule { timezone: tz.into(), week: vec![day.clone(), day.clone(), day.clone(), day.clone(), day, vec![], vec![]], holidays: vec!["2026-12-25".into()] }
    }

    // 2026-12-02 is a Wednesday.
    const WED_10_UTC: i64 = 1_796_205_600_000;

    #[test]
    fn a_team_is_open_in_its_hours_in_its_own_time_zone() {
        assert!(nine_to_five("UTC").open_at(WED_10_UTC));
        assert!(!nine_to_five("America/New_York").open_at(WED_10_UTC), "05:00 in New York");
        assert!(nine_to_five("Europe/Berlin").open_at(WED_10_UTC), "11:00 in Berlin");
        assert!(!nine_to_five("UTC").open_at(WED_10_UTC + 8 * 3_600_000), "18:00");
        assert!(!nine_to_five("UTC").open_at(WED_10_UTC + 3 * 86_400_000), "Saturday");
    }

    #[test]
    fn a_holiday_is_closed_all_day() {
        assert!(!nine_to_five("UTC").open_at(WED_10_UTC + 23 * 86_400_000), "Friday 25 December");
    }

    #[test]
    fn a_schedule_that_cannot_work_says_why() {
        let mut s = nine_to_five("Mars/Olympus");
        assert!(s.check().unwrap_err().contains("not a time zone"));
        s.timezone = "UTC".into();
        s.week[0][0].to = "08:00".into();
        assert!(s.check().unwrap_err().contains("not a time range"));
        s.week.pop();
        assert!(s.check().unwrap_err().contains("7 days"));
    }
}
