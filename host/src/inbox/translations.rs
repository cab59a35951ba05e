//! Translations kept with their messages: asked of the provider once per language, shown to
//! every agent after.

impl super::Inbox {
    /// Keep a translation of a message with it (replacing an older one into that language).
    pub async fn keep_translation(&self, message_id: &str, t: crate::model::Translation) -> Result<crate::model::Message, super::InboxError> {
        let _write = self.write_lock.lock().await;
        let mut m = self.store.messages(&[message_id.to_string()]).await?.pop().ok_or_else(|| super::InboxError::NotFound(format!("no message `{message_id}`")))?;
        let ticket_id = m.ticket_id.clone();
        let (mut w, before) = self.load_working(&[], std::slice::from_ref(&ticket_id)).await?;
        let seq = self.store.next_seq().await?;
        m.translations.retain(|x| x.language != t.language);
        m.translations.push(t);
        m.seq = seq;
        w.messages.insert(m.id.clone(), m.clone());
        w.changed_messages.insert(m.id.clone());
        w.touch(&ticket_id, seq);
        self.commit(w, &before, Vec::new(), Vec::new(), Vec::new(), seq).await?;
        Ok(m)
    }

    /// A stored message.
    pub async fn message(&self, message_id: &str) -> Result<crate::model::Message, super::InboxError> {
        self.store.messages(&[message_id.to_string()]).await?.pop().ok_or_else(|| super::InboxError::NotFound(format!("no message `{message_id}`")))
    }
}
