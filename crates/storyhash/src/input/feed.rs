//! Standard input as a feed: its bytes are read on a thread of their own, so that the
//! record reader can ask whether its next read would wait for the writer. A feed that
//! does not end (`tail -f … | storyhash index add idx -`) is then answered, and
//! committed, as each article arrives, while a pipe that is always full is read in
//! batches as large as a file's.

use std::io::{self, Read};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, TryRecvError};

/// How many bytes the reading thread asks for at once, and how many such chunks may
/// wait in the channel: what a feed holds ahead of the reader is bounded (about 1.5 MiB
/// with the chunk being taken and the one being read).
const CHUNK: usize = 256 << 10;
const CHUNKS_AHEAD: usize = 4;
/// How long the writer may send nothing before the feed counts as waiting for it: each
/// answer of a feed comes this much later than it could. A pipe kept full (`cat
/// big.jsonl |`) refills in microseconds, so the reader does not mistake its own speed
/// for a pause (asking without waiting did: `cat` of 20,840 wire articles committed
/// about 20 times); at 5 ms it commits once or twice, as at 20 ms, and a stray pause
/// costs one commit, which costs what it writes.
const PAUSE: std::time::Duration = std::time::Duration::from_millis(5);

/// Bytes from a source read on its own thread; [`Read`] takes them in order.
pub(crate) struct Feed {
    chunks: Receiver<io::Result<Vec<u8>>>,
    /// The chunk being taken, and how much of it has been.
    chunk: Vec<u8>,
    taken: usize,
    /// A chunk (or the error) received by [`Feed::would_wait`] before it was asked for.
    early: Option<io::Result<Vec<u8>>>,
    /// The source has ended (or failed, and the failure was handed on).
    ended: bool,
    /// [`Feed::would_wait`] waited out a [`PAUSE`] and nothing has arrived since: asked
    /// again, it looks without waiting, so a pause costs one `PAUSE` however many
    /// callers ask.
    paused: bool,
}

impl Feed {
    /// Reads `source` on a thread that ends with it. A thread blocked on a source that
    /// never ends lives until the process does.
    pub(crate) fn new(mut source: impl Read + Send + 'static) -> Feed {
        let (sender, chunks) = mpsc::sync_channel(CHUNKS_AHEAD);
        std::thread::spawn(move || loop {
            let mut chunk = vec![0; CHUNK];
            let sent = match source.read(&mut chunk) {
                Ok(0) => return,
                Ok(n) => {
                    chunk.truncate(n);
                    sender.send(Ok(chunk))
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let _ = sender.send(Err(e));
                    return;
                }
            };
            if sent.is_err() {
                // The reader is gone: nobody wants the rest.
                return;
            }
        });
        Feed {
            chunks,
            chunk: Vec::new(),
            taken: 0,
            early: None,
            ended: false,
            paused: false,
        }
    }

    /// Standard input as a feed.
    pub(crate) fn stdin() -> Feed {
        Feed::new(io::stdin())
    }

    /// True when nothing read is waiting to be taken, the source has not ended, and
    /// nothing arrives within [`PAUSE`] (or, asked again during a pause, nothing has
    /// arrived): the next [`Read::read`] would wait for the writer.
    pub(crate) fn would_wait(&mut self) -> bool {
        if self.taken < self.chunk.len() || self.early.is_some() || self.ended {
            return false;
        }
        let received = if self.paused {
            self.chunks.try_recv().map_err(|e| e == TryRecvError::Empty)
        } else {
            (self.chunks.recv_timeout(PAUSE)).map_err(|e| e == RecvTimeoutError::Timeout)
        };
        match received {
            Ok(chunk) => {
                self.early = Some(chunk);
                self.paused = false;
            }
            Err(waiting) => {
                self.paused = waiting;
                self.ended = !waiting;
            }
        }
        self.paused
    }
}

impl Read for Feed {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.taken == self.chunk.len() {
            if self.ended {
                return Ok(0);
            }
            let next = match self.early.take() {
                Some(next) => next,
                None => match self.chunks.recv() {
                    Ok(next) => {
                        self.paused = false;
                        next
                    }
                    Err(_) => {
                        self.ended = true;
                        return Ok(0);
                    }
                },
            };
            match next {
                Ok(chunk) => (self.chunk, self.taken) = (chunk, 0),
                Err(e) => {
                    self.ended = true;
                    return Err(e);
                }
            }
        }
        let n = buf.len().min(self.chunk.len() - self.taken);
        buf[..n].copy_from_slice(&self.chunk[self.taken..self.taken + n]);
        self.taken += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_feed_says_when_its_next_read_would_wait_and_keeps_every_byte() {
        let (source, mut writer) = io::pipe().expect("pipe");
        let mut feed = Feed::new(source);
        assert!(feed.would_wait(), "nothing written yet");
        writer.write_all(b"one\ntwo\n").expect("write");
        // The thread hands the bytes over soon after; wait for it, bounded.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while feed.would_wait() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let mut got = [0u8; 3];
        feed.read_exact(&mut got).expect("read");
        assert_eq!(&got, b"one");
        assert!(!feed.would_wait(), "\\ntwo\\n is held");
        let mut rest = [0u8; 5];
        feed.read_exact(&mut rest).expect("read");
        assert_eq!(&rest, b"\ntwo\n");
        assert!(feed.would_wait(), "all taken, the writer open");
        writer.write_all(b"three").expect("write");
        drop(writer);
        let mut end = Vec::new();
        feed.read_to_end(&mut end).expect("read");
        assert_eq!(end, b"three");
        assert!(!feed.would_wait(), "ended: a read returns at once");
        assert_eq!(feed.read(&mut got).expect("read"), 0);
    }
}
