//! UI messages in Chinese and English, kept in TOML message files (one per language per crate).

use std::collections::BTreeMap;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "zh" | "zh-CN" | "zh-cn" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }

    /// Picks the text of a `Msg` in this language.
    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En if en.is_empty() => zh,
            Lang::En => en,
        }
    }
}

/// Every UI string, by key, in both languages.
#[derive(Debug, Default, Clone)]
pub struct Messages {
    zh: BTreeMap<String, String>,
    en: BTreeMap<String, String>,
}

impl Messages {
    /// Adds one crate's message files; a key defined twice is a start-up error.
    pub fn add(&mut self, zh_toml: &str, en_toml: &str) -> Result<(), String> {
        for (lang_map, text, name) in [(&mut self.zh, zh_toml, "zh"), (&mut self.en, en_toml, "en")]
        {
            let table: BTreeMap<String, String> =
                toml::from_str(text).map_err(|e| format!("{name} messages: {e}"))?;
            for (k, v) in table {
                if lang_map.insert(k.clone(), v).is_some() {
                    return Err(format!("{name} message key {k} is defined twice"));
                }
            }
        }
        Ok(())
    }

    pub fn get(&self, lang: Lang, key: &str) -> Option<&str> {
        match lang {
            Lang::Zh => self.zh.get(key),
            Lang::En => self.en.get(key),
        }
        .map(String::as_str)
    }

    /// Keys present in one language but not the other.
    pub fn mismatched_keys(&self) -> Vec<String> {
        let only_zh = self.zh.keys().filter(|k| !self.en.contains_key(*k));
        let only_en = self.en.keys().filter(|k| !self.zh.contains_key(*k));
        only_zh.chain(only_en).cloned().collect()
    }

    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.zh.keys()
    }
}
