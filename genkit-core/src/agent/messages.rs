//! [`Messages`]: a session's conversation, a persistent list of shared messages whose
//! snapshots share their common beginning.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::types::Message;

/// The conversation of a session: an immutable list of shared messages.
///
/// Cloning it copies one pointer. Appending to it (a turn's new messages) makes a new
/// list that points to the old one and holds only the new messages, so a snapshot
/// saved after a turn shares every earlier message *and* the list of them with the
/// snapshot it continues, and a store that keeps snapshots in memory
/// ([`InMemorySessionStore`](super::InMemorySessionStore)) hands them back the same
/// way. A session of n turns thus holds each message once and about one pointer per
/// message per snapshot's own messages, not n²/2 pointers. (The pieces are merged as
/// they grow, like a binary counter: a list of n messages is at most log₂ n + 1 pieces,
/// and each message is copied O(log n) times over the session.)
///
/// It reads like a slice of messages ([`iter`](Self::iter), [`len`](Self::len),
/// [`last`](Self::last), `messages[i]`, `for m in &messages`), builds from a
/// `Vec<Message>` (`.into()`) or an iterator (`.collect()`), and serializes exactly as
/// `Vec<Message>` (a JSON array of messages).
///
/// ```
/// use genkit_core::Message;
/// use genkit_core::agent::Messages;
/// let mut history: Messages = vec![Message::user("hi")].into();
/// let saved = history.clone(); // shares the message
/// history.push(Message::model("hello"));
/// assert_eq!(saved.len(), 1);
/// assert_eq!(history.last().map(Message::text).as_deref(), Some("hello"));
/// assert_eq!(serde_json::to_string(&saved)?, r#"[{"role":"user","content":[{"text":"hi"}]}]"#);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct Messages(Option<Arc<Piece>>);

/// The newest messages of a list, after the older ones (`before`).
struct Piece {
    before: Messages,
    /// How many messages `before` holds.
    start: usize,
    /// Never empty.
    items: Box<[Arc<Message>]>,
}

impl Messages {
    /// An empty conversation.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many messages it holds.
    pub fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |p| p.start + p.items.len())
    }

    /// True when it holds none.
    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    /// The messages in order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Message> + ExactSizeIterator + Clone {
        self.iter_shared().map(|m| &**m)
    }

    /// The shared messages themselves, in order.
    pub fn iter_shared(&self) -> SharedIter<'_> {
        let mut pieces = Vec::new();
        let mut at = self;
        while let Some(p) = &at.0 {
            pieces.push(&p.items[..]);
            at = &p.before;
        }
        pieces.reverse();
        let back = pieces
            .last()
            .map_or((0, 0), |s| (pieces.len() - 1, s.len()));
        SharedIter {
            remaining: self.len(),
            pieces,
            front: (0, 0),
            back,
        }
    }

    /// The shared message at `index`.
    pub fn get_shared(&self, index: usize) -> Option<&Arc<Message>> {
        let mut at = self.0.as_ref()?;
        while index < at.start {
            at = at.before.0.as_ref()?;
        }
        at.items.get(index - at.start)
    }

    /// The message at `index`.
    pub fn get(&self, index: usize) -> Option<&Message> {
        self.get_shared(index).map(|m| &**m)
    }

    /// The first message.
    pub fn first(&self) -> Option<&Message> {
        self.get(0)
    }

    /// The last message.
    pub fn last(&self) -> Option<&Message> {
        self.0.as_ref().and_then(|p| p.items.last()).map(|m| &**m)
    }

    /// Copies of the messages.
    pub fn to_vec(&self) -> Vec<Message> {
        self.iter().cloned().collect()
    }

    /// Appends a message (earlier ones are shared, neither they nor the list of them
    /// is copied).
    pub fn push(&mut self, message: Message) {
        self.extend([message]);
    }

    /// Appends messages (earlier ones are shared, neither they nor the list of them is
    /// copied).
    pub fn extend(&mut self, messages: impl IntoIterator<Item = Message>) {
        let new: Vec<_> = messages.into_iter().map(compact).map(Arc::new).collect();
        *self = self.appended(new);
    }

    /// This list followed by `new`, merging the last pieces while the one before is no
    /// more than twice as long as the new one (so pieces at least double towards the
    /// start).
    fn appended(&self, mut new: Vec<Arc<Message>>) -> Messages {
        if new.is_empty() {
            return self.clone();
        }
        let mut before = self;
        while let Some(p) = &before.0
            && p.items.len() <= 2 * new.len()
        {
            new.splice(0..0, p.items.iter().cloned());
            before = &p.before;
        }
        Messages(Some(Arc::new(Piece {
            start: before.len(),
            before: before.clone(),
            items: new.into_boxed_slice(),
        })))
    }

    /// True when `self` continues `base`: it is `base` or `base` is one of its pieces'
    /// beginnings, so the first `base.len()` messages are `base`'s own.
    fn continues(&self, base: &Messages) -> bool {
        let Some(b) = &base.0 else {
            return true;
        };
        let mut at = &self.0;
        while let Some(p) = at {
            if Arc::ptr_eq(p, b) {
                return true;
            }
            if p.start < base.len() {
                return false;
            }
            at = &p.before.0;
        }
        false
    }

    /// `messages` (the history after a turn) as a conversation that reuses this one's
    /// allocation for every message that continues it unchanged: from where its first
    /// message is found here (a history limit drops the earliest ones), position by
    /// position up to the first difference. When `messages` continues the whole of this
    /// one, the result is this list plus the new messages. A turn thus keeps one copy
    /// of the earlier messages.
    pub(crate) fn share_prefix(&self, messages: Vec<Arc<Message>>) -> Messages {
        let same_message = |a: &Arc<Message>, b: &Arc<Message>| Arc::ptr_eq(a, b) || a == b;
        let start = messages
            .first()
            .and_then(|first| self.iter_shared().position(|m| same_message(m, first)))
            .unwrap_or(self.len());
        let mut shared = self.iter_shared().skip(start);
        let mut same = 0;
        let mut out: Vec<Arc<Message>> = Vec::with_capacity(messages.len());
        for m in messages {
            match shared.next() {
                Some(old) if same == out.len() && same_message(old, &m) => {
                    out.push(old.clone());
                    same += 1;
                }
                _ => out.push(Arc::new(compact(Arc::unwrap_or_clone(m)))),
            }
        }
        if start == 0 && same == self.len() {
            return self.appended(out.split_off(same));
        }
        out.into_iter().collect()
    }

    /// This conversation with every message that equals `base`'s at the same position
    /// (up to the first difference) taken from `base`; when that is all of `base`, the
    /// result continues `base`'s list (pointer-equal ones cost nothing to compare).
    pub(crate) fn shared_with(&self, base: &Messages) -> Messages {
        if self.continues(base) {
            return self.clone();
        }
        let pairs = || self.iter_shared().zip(base.iter_shared());
        let same = pairs()
            .take_while(|(m, b)| Arc::ptr_eq(m, b) || m == b)
            .count();
        if same == base.len() {
            if pairs().all(|(m, b)| Arc::ptr_eq(m, b)) {
                return self.clone();
            }
            return base.appended(self.iter_shared().skip(same).cloned().collect());
        }
        base.iter_shared()
            .take(same)
            .chain(self.iter_shared().skip(same))
            .cloned()
            .collect()
    }
}

impl Drop for Messages {
    /// Drops a long chain of pieces in a loop, not by recursion (a chain is at most
    /// log₂ n pieces, so this is a guard, not a need).
    fn drop(&mut self) {
        let mut next = self.0.take();
        while let Some(p) = next {
            next = match Arc::try_unwrap(p) {
                Ok(mut piece) => piece.before.0.take(),
                Err(_) => None,
            };
        }
    }
}

/// `m` without spare capacity: a message built by pushing parts (a parsed or streamed
/// answer) can hold room for several, and a session keeps it for its whole life.
fn compact(mut m: Message) -> Message {
    m.content.shrink_to_fit();
    for p in &mut m.content {
        if let Some(t) = p.text.as_mut() {
            t.shrink_to_fit();
        }
    }
    m
}

/// The shared messages of a [`Messages`], in order ([`Messages::iter_shared`]).
#[derive(Clone)]
pub struct SharedIter<'a> {
    /// The pieces' messages, oldest first.
    pieces: Vec<&'a [Arc<Message>]>,
    /// (piece, index) of the next item from the front.
    front: (usize, usize),
    /// (piece, end) of the next item from the back.
    back: (usize, usize),
    remaining: usize,
}

impl<'a> Iterator for SharedIter<'a> {
    type Item = &'a Arc<Message>;

    fn next(&mut self) -> Option<&'a Arc<Message>> {
        if self.remaining == 0 {
            return None;
        }
        while self.front.1 >= self.pieces.get(self.front.0)?.len() {
            self.front = (self.front.0 + 1, 0);
        }
        let item = self.pieces.get(self.front.0)?.get(self.front.1)?;
        self.front.1 += 1;
        self.remaining -= 1;
        Some(item)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl DoubleEndedIterator for SharedIter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        while self.back.1 == 0 {
            self.back.0 = self.back.0.checked_sub(1)?;
            self.back.1 = self.pieces.get(self.back.0)?.len();
        }
        self.back.1 -= 1;
        self.remaining -= 1;
        self.pieces.get(self.back.0)?.get(self.back.1)
    }
}

impl ExactSizeIterator for SharedIter<'_> {}

impl std::fmt::Debug for Messages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl PartialEq for Messages {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (Some(a), Some(b)) if Arc::ptr_eq(a, b) => true,
            _ => {
                self.len() == other.len()
                    && self
                        .iter_shared()
                        .zip(other.iter_shared())
                        .all(|(a, b)| Arc::ptr_eq(a, b) || a == b)
            }
        }
    }
}

impl PartialEq<[Message]> for Messages {
    fn eq(&self, other: &[Message]) -> bool {
        self.len() == other.len() && self.iter().zip(other).all(|(a, b)| a == b)
    }
}

impl PartialEq<Vec<Message>> for Messages {
    fn eq(&self, other: &Vec<Message>) -> bool {
        *self == other[..]
    }
}

impl std::ops::Index<usize> for Messages {
    type Output = Message;
    fn index(&self, index: usize) -> &Message {
        match self.get(index) {
            Some(m) => m,
            None => panic!(
                "index out of bounds: the len is {} but the index is {index}",
                self.len()
            ),
        }
    }
}

impl From<Vec<Message>> for Messages {
    fn from(v: Vec<Message>) -> Self {
        v.into_iter().collect()
    }
}

impl From<Vec<Arc<Message>>> for Messages {
    fn from(v: Vec<Arc<Message>>) -> Self {
        Messages::new().appended(v)
    }
}

impl From<Messages> for Vec<Message> {
    fn from(m: Messages) -> Self {
        m.to_vec()
    }
}

impl FromIterator<Message> for Messages {
    fn from_iter<I: IntoIterator<Item = Message>>(iter: I) -> Self {
        iter.into_iter().map(compact).map(Arc::new).collect()
    }
}

impl FromIterator<Arc<Message>> for Messages {
    fn from_iter<I: IntoIterator<Item = Arc<Message>>>(iter: I) -> Self {
        Messages::from(iter.into_iter().collect::<Vec<_>>())
    }
}

fn deref_message(m: &Arc<Message>) -> &Message {
    m
}

impl<'a> IntoIterator for &'a Messages {
    type Item = &'a Message;
    type IntoIter = std::iter::Map<SharedIter<'a>, fn(&'a Arc<Message>) -> &'a Message>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter_shared()
            .map(deref_message as fn(&'a Arc<Message>) -> &'a Message)
    }
}

impl Serialize for Messages {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for Messages {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        Vec::<Message>::deserialize(d).map(Messages::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(m: &Messages) -> Vec<String> {
        m.iter().map(Message::text).collect()
    }

    fn same(a: &Messages, i: usize, b: &Messages, j: usize) -> bool {
        match (a.get_shared(i), b.get_shared(j)) {
            (Some(x), Some(y)) => Arc::ptr_eq(x, y),
            _ => false,
        }
    }

    fn pieces(m: &Messages) -> Vec<usize> {
        let mut out = Vec::new();
        let mut at = &m.0;
        while let Some(p) = at {
            out.push(p.items.len());
            at = &p.before.0;
        }
        out.reverse();
        out
    }

    #[test]
    fn a_turn_shares_the_messages_it_continues() {
        let before: Messages = ["a", "b", "c"].map(Message::user).into_iter().collect();
        // The whole history plus the turn's two messages: the old list plus a piece.
        let after = before.share_prefix(
            ["a", "b", "c", "d", "e"]
                .map(|t| Arc::new(Message::user(t)))
                .to_vec(),
        );
        assert_eq!(texts(&after), ["a", "b", "c", "d", "e"]);
        assert!((0..3).all(|i| same(&before, i, &after, i)));
        // A history limit dropped the first message.
        let limited =
            before.share_prefix(["b", "c", "d"].map(|t| Arc::new(Message::user(t))).to_vec());
        assert!(same(&before, 1, &limited, 0) && same(&before, 2, &limited, 1));
        assert_eq!(texts(&limited), ["b", "c", "d"]);
        // A rewritten message ends the sharing.
        let rewritten =
            before.share_prefix(["a", "x", "c"].map(|t| Arc::new(Message::user(t))).to_vec());
        assert!(same(&before, 0, &rewritten, 0));
        assert!(!same(&before, 2, &rewritten, 2));
        assert_eq!(texts(&rewritten), ["a", "x", "c"]);
    }

    #[test]
    fn pieces_double_towards_the_start_and_read_back_in_order() {
        let mut m = Messages::new();
        let mut want = Vec::new();
        let mut snapshots = Vec::new();
        for turn in 0..200 {
            let new = [format!("u{turn}"), format!("m{turn}")];
            want.extend(new.iter().cloned());
            m.extend(new.iter().map(Message::user));
            snapshots.push((m.clone(), want.clone()));
            let sizes = pieces(&m);
            assert!(
                sizes.windows(2).all(|w| w[0] > 2 * w[1]),
                "turn {turn}: {sizes:?}"
            );
            assert!(sizes.len() <= 10, "turn {turn}: {sizes:?}");
        }
        for (m, want) in &snapshots {
            assert_eq!(texts(m), *want);
            assert_eq!(m.iter().rev().map(Message::text).collect::<Vec<_>>(), {
                let mut w = want.clone();
                w.reverse();
                w
            });
            assert_eq!(m.iter().len(), want.len());
            for (i, w) in want.iter().enumerate() {
                assert_eq!(m[i].text(), *w);
            }
            assert!(m.get(want.len()).is_none());
            assert_eq!(
                m.first().map(Message::text).as_deref(),
                want.first().map(|s| &**s)
            );
            assert_eq!(
                m.last().map(Message::text).as_deref(),
                want.last().map(|s| &**s)
            );
        }
        // Both ends at once.
        let (m, want) = &snapshots[37];
        let mut it = m.iter();
        let mut got_front = Vec::new();
        let mut got_back = Vec::new();
        while let Some(x) = it.next() {
            got_front.push(x.text());
            if let Some(y) = it.next_back() {
                got_back.push(y.text());
            }
        }
        got_back.reverse();
        got_front.extend(got_back);
        assert_eq!(got_front, *want);
        // Every snapshot shares the first message.
        let first = snapshots[0].0.get_shared(0).cloned().expect("first");
        assert!(
            snapshots
                .iter()
                .all(|(m, _)| Arc::ptr_eq(m.get_shared(0).expect("first"), &first))
        );
    }

    #[test]
    fn shared_with_continues_the_base_list() {
        let base: Messages = ["a", "b"].map(Message::user).into_iter().collect();
        // Equal by value, not by pointer (read back from elsewhere).
        let rebuilt: Messages = ["a", "b", "c"].map(Message::user).into_iter().collect();
        let shared = rebuilt.shared_with(&base);
        assert!(same(&shared, 0, &base, 0) && same(&shared, 1, &base, 1));
        assert_eq!(texts(&shared), ["a", "b", "c"]);
        // Already sharing: the same list back.
        let mut longer = base.clone();
        longer.push(Message::user("c"));
        let again = longer.shared_with(&base);
        assert!(matches!((&again.0, &longer.0), (Some(a), Some(b)) if Arc::ptr_eq(a, b)));
        let branch: Messages = ["a", "x"].map(Message::user).into_iter().collect();
        let shared = branch.shared_with(&base);
        assert!(same(&shared, 0, &base, 0) && !same(&shared, 1, &base, 1));
        assert_eq!(texts(&shared), ["a", "x"]);
        assert_eq!(shared, branch);
    }

    #[test]
    fn a_long_chain_drops_without_recursion() {
        // Pieces merge as they grow, so build a deep chain by hand.
        let mut m = Messages::new();
        for i in 0..200_000 {
            m = Messages(Some(Arc::new(Piece {
                start: m.len(),
                before: m,
                items: vec![Arc::new(Message::user(format!("{i}")))].into_boxed_slice(),
            })));
        }
        assert_eq!(m.len(), 200_000);
        drop(m);
    }

    #[test]
    fn serializes_as_a_vec_of_messages() {
        let v = vec![Message::user("hi"), Message::model("hello")];
        let mut m: Messages = v[..1].to_vec().into();
        m.push(v[1].clone());
        assert_eq!(
            serde_json::to_string(&m).expect("json"),
            serde_json::to_string(&v).expect("json")
        );
        let back: Messages =
            serde_json::from_str(&serde_json::to_string(&v).expect("json")).expect("parses");
        assert_eq!(back, v);
        assert_eq!(Messages::new().iter().next(), None);
        assert_eq!(Messages::new().iter().next_back(), None);
    }
}
