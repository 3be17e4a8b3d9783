//! Stopword lists per language: function words that carry no story identity. Removing
//! them matters for the `story` preset, where unigram overlap between unrelated articles
//! in one language is otherwise dominated by "the", "في", "من". Lists are written in
//! raw form and normalized at build time, so they match normalized tokens whatever the
//! normalization rules become.

use std::collections::HashSet;

use crate::normalize::normalize;

/// A language with a stopword list.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Language {
    /// Modern Standard Arabic.
    #[serde(rename = "ar")]
    Arabic,
    /// English.
    #[serde(rename = "en")]
    English,
}

impl Language {
    /// Every language with a list.
    pub const ALL: [Language; 2] = [Language::Arabic, Language::English];

    /// The ISO 639-1 code.
    pub fn code(self) -> &'static str {
        match self {
            Language::Arabic => "ar",
            Language::English => "en",
        }
    }

    /// Parses an ISO 639-1 code.
    pub fn from_code(code: &str) -> Option<Language> {
        Language::ALL.into_iter().find(|l| l.code() == code)
    }

    fn raw_list(self) -> &'static str {
        match self {
            Language::Arabic => ARABIC,
            Language::English => ENGLISH,
        }
    }
}

/// The union of the chosen languages' lists, normalized. Lists of different scripts never
/// collide, so one set serves a mixed-language corpus.
#[derive(Debug, Clone, Default)]
pub struct StopwordSet {
    words: HashSet<String>,
}

impl StopwordSet {
    /// Builds the set for `languages` (empty slice: no stopwords).
    pub fn new(languages: &[Language]) -> Self {
        let words = languages
            .iter()
            .flat_map(|l| l.raw_list().split_whitespace())
            .map(normalize)
            .collect();
        StopwordSet { words }
    }

    /// Whether the normalized token is a stopword.
    pub fn contains(&self, token: &str) -> bool {
        self.words.contains(token)
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }
}

/// Arabic function words: prepositions, conjunctions, particles, pronouns, demonstratives,
/// relatives, and the attached-conjunction forms that whitespace tokenization leaves whole
/// (و/ف + word). Also the reporting verbs (قال، أكد، أضاف) that open nearly every news
/// sentence and so identify no story.
const ARABIC: &str = "
في من إلى الى على عن مع أن إن ان لأن كأن لكن لكنه ثم أو او أم بل حتى إذا اذا إذ اذ لو لولا
كان كانت يكون تكون كانوا يكونون ليس ليست لم لن لا ما ماذا لماذا كيف أين اين متى هل قد لقد
سوف هذا هذه ذلك تلك هؤلاء أولئك هنا هناك الذي التي الذين اللذين اللتين اللواتي اللاتي
كل بعض غير سوى بين عند عندما حيث حين منذ خلال بعد قبل ضد نحو لدى حول أمام خلف فوق تحت
أيضا ايضا كما مثل فقط جدا هو هي هم هن هما أنا انا نحن أنت انت أنتم انتم أنتن
له لها لهم لهما لنا لي به بها بهم فيه فيها فيهم منه منها منهم عليه عليها عليهم إليه إليها
إليهم عنه عنها عنهم معه معها معهم وفي ومن وإلى والى وعلى وعن ومع وأن وإن وقد وهو وهي وهم
وكان وكانت ولا ولم ولن وما وهذا وهذه وذلك وتلك والتي والذي وكما وأيضا وبين وبعد وقبل
فإن فان فقد فهو فهي فلا فما كذلك إلا الا أي أية أيضاً عبر وفق وفقا إثر اثر تجاه لدي
قال قالت وقال وقالت أكد وأكد أكدت وأكدت أضاف وأضاف أضافت وأضافت أشار وأشار أشارت وأشارت
يوم أمس اليوم الذي
";

/// English function words and the ubiquitous news reporting verbs ("said", "says").
const ENGLISH: &str = "
a an and are as at be been being but by can could did do does for from had has have he
her hers him his how i if in into is it its just may me might more most must my no nor
not of on or our ours out over she should so some such than that the their theirs them
then there these they this those through to too under up very was we were what when
where which while who whom why will with would you your yours about after again against
all also am any because before between both down during each few further here once only
other own same until said says told according
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_match_normalized_tokens() {
        let set = StopwordSet::new(&Language::ALL);
        // أن is listed with hamza; the normalized token is ان.
        assert!(set.contains("ان"));
        assert!(set.contains("الي"));
        assert!(set.contains("the"));
        assert!(!set.contains("موسكو"));
        assert!(!set.contains("moscow"));
    }

    #[test]
    fn languages_are_separate_switches() {
        let english = StopwordSet::new(&[Language::English]);
        assert!(english.contains("the"));
        assert!(!english.contains("في"));
        assert!(StopwordSet::new(&[]).is_empty());
    }
}
