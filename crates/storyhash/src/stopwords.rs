//! Stopword lists per language (Arabic, English, French, Spanish, Portuguese, Italian,
//! German, Russian, Turkish, Persian): function words that carry no story identity.
//! Removing them matters for the `story` preset, where unigram overlap between unrelated
//! articles in one language is otherwise dominated by "the", "في", "de". Lists are written in
//! raw form and normalized at build time, so they match normalized tokens whatever the
//! normalization rules become.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

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
    /// French.
    #[serde(rename = "fr")]
    French,
    /// Spanish.
    #[serde(rename = "es")]
    Spanish,
    /// Portuguese.
    #[serde(rename = "pt")]
    Portuguese,
    /// Italian.
    #[serde(rename = "it")]
    Italian,
    /// German.
    #[serde(rename = "de")]
    German,
    /// Russian.
    #[serde(rename = "ru")]
    Russian,
    /// Turkish.
    #[serde(rename = "tr")]
    Turkish,
    /// Persian.
    #[serde(rename = "fa")]
    Persian,
}

impl Language {
    /// Every language with a list.
    pub const ALL: [Language; 10] = [
        Language::Arabic,
        Language::English,
        Language::French,
        Language::Spanish,
        Language::Portuguese,
        Language::Italian,
        Language::German,
        Language::Russian,
        Language::Turkish,
        Language::Persian,
    ];

    /// The ISO 639-1 code.
    pub fn code(self) -> &'static str {
        match self {
            Language::Arabic => "ar",
            Language::English => "en",
            Language::French => "fr",
            Language::Spanish => "es",
            Language::Portuguese => "pt",
            Language::Italian => "it",
            Language::German => "de",
            Language::Russian => "ru",
            Language::Turkish => "tr",
            Language::Persian => "fa",
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
            Language::French => FRENCH,
            Language::Spanish => SPANISH,
            Language::Portuguese => PORTUGUESE,
            Language::Italian => ITALIAN,
            Language::German => GERMAN,
            Language::Russian => RUSSIAN,
            Language::Turkish => TURKISH,
            Language::Persian => PERSIAN,
        }
    }
}

/// The union of the chosen languages' lists, normalized. Lists of different scripts never
/// collide, so one set serves a mixed-language corpus.
#[derive(Debug, Clone, Default)]
pub struct StopwordSet {
    /// Looked up once per token of every document: hashed by xxh3 rather than SipHash
    /// (the set is fixed, so there is no flooding to resist), which made it a fifth of
    /// the report's term pass.
    words: HashSet<String, BuildHasherDefault<WordHasher>>,
}

/// xxh3 over the bytes a key writes (a `str` writes its bytes and a terminator).
#[derive(Debug, Default, Clone, Copy)]
pub struct WordHasher(u64);

impl Hasher for WordHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0 = xxhash_rust::xxh3::xxh3_64_with_seed(bytes, self.0);
    }

    fn write_u8(&mut self, byte: u8) {
        self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
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

// The lists below are unioned with the others (one set serves a corpus of many
// languages), so each leaves out its function words that are content words elsewhere,
// in English above all: German "war", "man", "hat" and "die", Spanish "era", "han",
// "sin" and "son", Italian "era" and "come", French "car", "son", "plus" and "pour",
// Turkish numbers ("on" is ten), Persian کرد (which folds to the Arabic for "Kurd").
// Only frequent function words are listed, and the reporting verbs of news.

/// French function words and reporting verbs.
const FRENCH: &str = "
le la les un une des du de à au aux et ou mais donc ni que qui quoi dont où ce cet cette
ces il elle ils elles on nous vous je tu se sa ses leur leurs lui y en ne pas dans par sur
sous avec sans chez entre vers depuis pendant avant après selon contre est sont été être
était étaient sera seront a ont avait avaient aura fait comme aussi très tout tous toute
toutes bien encore déjà ainsi alors dit déclaré indiqué affirmé
";

/// Spanish function words and reporting verbs.
const SPANISH: &str = "
el la los las un una unos unas del al de a y e o u ni pero sino que quien quienes cual
cuales cuyo donde cuando como se su sus le les lo nos me te él ella ellos ellas en con por
para sobre entre hasta desde durante tras contra según es fue fueron ser sido está
están estaba estaban ha había habían será muy más ya también todo todos toda todas este
esta estos estas ese esa esos esas aquel dijo afirmó aseguró señaló indicó
";

/// Portuguese function words and reporting verbs.
const PORTUGUESE: &str = "
o a à os as um uma uns umas do da dos das no na nos nas ao aos pelo pela pelos pelas de em
por para com sem sobre entre até desde durante contra segundo e ou mas que quem qual quais
cujo onde quando como se seu sua seus suas ele ela eles elas lhe é são foi foram ser sido
está estão estava estavam tem têm tinha será muito mais já também todo todos toda todas
este esta estes estas esse essa esses essas disse afirmou declarou
";

/// Italian function words and reporting verbs.
const ITALIAN: &str = "
il lo la i gli le un uno una di del dello della dei degli delle a al allo alla ai agli
alle da dal dalla dai dalle in nel nello nella nei negli nelle su sul sulla sui sulle con
per tra fra e ed o ma che chi cui dove quando se suo sua suoi sue lui lei loro è sono
erano stato stata essere ha hanno aveva avevano sarà molto più già anche tutto tutti
tutta tutte questo questa questi queste quello quella ha detto dichiarato
";

/// German function words and reporting verbs.
const GERMAN: &str = "
der das den dem des ein eine einer eines einem einen und oder aber doch sondern denn dass
ob wenn als wie wo weil sich sie er es wir ihr ihre ihrem ihren ihrer sein seine seinem
seinen seiner ist sind wird werden wurde wurden worden sein gewesen haben hatte hatten nicht
kein keine auch noch schon nur sehr mehr im in ins am an auf aus bei mit nach von vor zu
zum zur über unter gegen ohne durch für um bis seit während sagte erklärte
";

/// Russian function words and reporting verbs.
const RUSSIAN: &str = "
и в во не на с со что как а но или же ли бы по к ко у о об от до из за для при без под над
между через после перед это этот эта эти того тем том также так уже еще ещё только очень
он она оно они его ее её их ему ей им мы вы я был была было были быть будет будут есть
который которая которое которые которых который сказал заявил отметил сообщил
";

/// Turkish function words and reporting verbs.
const TURKISH: &str = "
ve ile de da ki bu şu o bir için gibi kadar daha çok en ama fakat ancak veya ya ise ne
mi mı mu mü olan olarak olduğu olduğunu oldu olacak her hem sonra önce göre karşı
üzerinde içinde arasında tarafından bunun bunu buna onun onu ona dedi söyledi açıkladı
belirtti
";

/// Persian function words and reporting verbs (written with Persian letters; they fold
/// to the Arabic ones, as the texts do).
const PERSIAN: &str = "
و در به از که این آن با را برای تا یا هم نیز اما یک خود است بود شد شده شود می‌شود
می‌کند کرده هست نیست بر پس هر چه چون اگر وی او ایشان آنها ما شما من همه گفت
";

/// A list of stopword languages as written on a command line: comma-separated codes
/// (`ar,en`), `all`, or `none`.
pub fn parse_languages(s: &str) -> Result<Vec<Language>, String> {
    match s {
        "all" => Ok(Language::ALL.to_vec()),
        "none" => Ok(Vec::new()),
        _ => s
            .split(',')
            .map(|code| {
                Language::from_code(code.trim()).ok_or_else(|| {
                    let known: Vec<&str> = Language::ALL.iter().map(|l| l.code()).collect();
                    format!(
                        "unknown stopword language {code:?} (known: {}, all, none)",
                        known.join(", ")
                    )
                })
            })
            .collect(),
    }
}

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
    fn every_list_matches_its_normalized_words() {
        let set = StopwordSet::new(&Language::ALL);
        for (word, language) in [
            ("les", "fr"),
            ("été", "fr"),
            ("según", "es"),
            ("também", "pt"),
            ("della", "it"),
            ("über", "de"),
            ("который", "ru"),
            ("için", "tr"),
            // Persian keheh and yeh: the token is written with the Arabic letters.
            ("كه", "fa"),
            ("براي", "fa"),
            ("ميشود", "fa"),
        ] {
            assert!(set.contains(word), "{word} ({language})");
        }
    }

    /// The lists are unioned, so none may take a word that is content in another
    /// language: English news words above all.
    #[test]
    fn no_list_holds_a_content_word_of_another_language() {
        let set = StopwordSet::new(&Language::ALL);
        for word in [
            "war",
            "die",
            "man",
            "hat",
            "son",
            "car",
            "era",
            "come",
            "han",
            "sin",
            "plus",
            "pour",
            "gift",
            "كرد",
            "moscow",
            "government",
            "minister",
        ] {
            assert!(!set.contains(word), "{word}");
        }
        for language in Language::ALL {
            assert_eq!(Language::from_code(language.code()), Some(language));
        }
    }

    #[test]
    fn languages_are_separate_switches() {
        let english = StopwordSet::new(&[Language::English]);
        assert!(english.contains("the"));
        assert!(!english.contains("في"));
        assert!(StopwordSet::new(&[]).is_empty());
    }
}
