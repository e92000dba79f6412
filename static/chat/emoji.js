// The emoji picker's choices: the common ones first, and a small table of
// names to search by. The server decides what is one emoji (the `emoji`
// package); this only helps people find one. Every entry is fully qualified
// (with U+FE0F where Unicode asks for it), as the server requires.

/** Shown first in the picker, in this order. */
export const COMMON = ["👍", "❤️", "😂", "🎉", "😮", "😢", "🙏", "👀", "✅", "🔥"];

/** [emoji, name, other words to find it by]; names follow Unicode's CLDR short names. */
export const EMOJI = [
  ["👍", "thumbs up", "+1 like yes agree ok"],
  ["❤️", "red heart", "love heart"],
  ["😂", "face with tears of joy", "laugh lol funny"],
  ["🎉", "party popper", "tada celebrate congratulations hooray"],
  ["😮", "face with open mouth", "wow surprised"],
  ["😢", "crying face", "sad tear"],
  ["🙏", "folded hands", "please thanks pray"],
  ["👀", "eyes", "look see watching"],
  ["✅", "check mark button", "done yes tick ok"],
  ["🔥", "fire", "hot lit"],
  ["👎", "thumbs down", "-1 dislike no"],
  ["😀", "grinning face", "smile happy"],
  ["😃", "grinning face with big eyes", "smile happy"],
  ["😄", "grinning face with smiling eyes", "smile happy"],
  ["😁", "beaming face with smiling eyes", "grin"],
  ["😅", "grinning face with sweat", "phew relief"],
  ["🤣", "rolling on the floor laughing", "rofl laugh"],
  ["🙂", "slightly smiling face", "smile"],
  ["🙃", "upside-down face", "silly"],
  ["😉", "winking face", "wink"],
  ["😊", "smiling face with smiling eyes", "blush happy"],
  ["😇", "smiling face with halo", "angel innocent"],
  ["🥰", "smiling face with hearts", "love"],
  ["😍", "smiling face with heart-eyes", "love"],
  ["🤩", "star-struck", "wow amazing"],
  ["😘", "face blowing a kiss", "kiss"],
  ["😋", "face savoring food", "yum tasty"],
  ["😛", "face with tongue", "tongue"],
  ["😜", "winking face with tongue", "crazy silly"],
  ["🤔", "thinking face", "hmm think"],
  ["🤨", "face with raised eyebrow", "suspicious"],
  ["😐", "neutral face", "meh"],
  ["😑", "expressionless face", "blank"],
  ["😶", "face without mouth", "silent"],
  ["🙄", "face with rolling eyes", "eyeroll"],
  ["😏", "smirking face", "smirk"],
  ["😬", "grimacing face", "awkward oops"],
  ["😌", "relieved face", "relief"],
  ["😴", "sleeping face", "sleep tired zzz"],
  ["🤒", "face with thermometer", "sick ill"],
  ["🤯", "exploding head", "mind blown shocked"],
  ["🥳", "partying face", "party celebrate birthday"],
  ["😎", "smiling face with sunglasses", "cool"],
  ["🤓", "nerd face", "geek"],
  ["😕", "confused face", "confused"],
  ["😟", "worried face", "worried"],
  ["🙁", "slightly frowning face", "sad frown"],
  ["😯", "hushed face", "surprised"],
  ["😲", "astonished face", "shocked"],
  ["😳", "flushed face", "embarrassed"],
  ["🥺", "pleading face", "please puppy eyes"],
  ["😭", "loudly crying face", "sob cry sad"],
  ["😱", "face screaming in fear", "scream scared"],
  ["😤", "face with steam from nose", "triumph frustrated"],
  ["😡", "enraged face", "angry mad"],
  ["😠", "angry face", "angry mad"],
  ["🤬", "face with symbols on mouth", "swear cursing"],
  ["💀", "skull", "dead"],
  ["💩", "pile of poo", "poop"],
  ["🤡", "clown face", "clown"],
  ["👻", "ghost", "boo"],
  ["🤖", "robot", "bot"],
  ["👋", "waving hand", "wave hello hi bye"],
  ["👌", "ok hand", "ok perfect"],
  ["✌️", "victory hand", "peace"],
  ["🤞", "crossed fingers", "luck hope"],
  ["🤘", "sign of the horns", "rock"],
  ["👏", "clapping hands", "clap applause bravo"],
  ["🙌", "raising hands", "hooray celebrate"],
  ["💪", "flexed biceps", "strong muscle"],
  ["🤝", "handshake", "deal agreement"],
  ["✍️", "writing hand", "write"],
  ["👉", "backhand index pointing right", "point right"],
  ["👆", "backhand index pointing up", "point up"],
  ["☝️", "index pointing up", "point up"],
  ["🫡", "saluting face", "salute yes sir"],
  ["🧡", "orange heart", "love"],
  ["💛", "yellow heart", "love"],
  ["💚", "green heart", "love"],
  ["💙", "blue heart", "love"],
  ["💜", "purple heart", "love"],
  ["🖤", "black heart", "love"],
  ["💔", "broken heart", "heartbreak sad"],
  ["💯", "hundred points", "100 perfect"],
  ["✨", "sparkles", "shiny new"],
  ["⭐", "star", "favourite"],
  ["🌟", "glowing star", "star"],
  ["⚡", "high voltage", "lightning fast"],
  ["💥", "collision", "boom"],
  ["💡", "light bulb", "idea"],
  ["❓", "red question mark", "question"],
  ["❗", "red exclamation mark", "exclamation important"],
  ["⚠️", "warning", "caution"],
  ["❌", "cross mark", "no wrong x"],
  ["➕", "plus", "add"],
  ["🚀", "rocket", "launch ship deploy"],
  ["🎯", "bullseye", "target direct hit"],
  ["🏆", "trophy", "win award"],
  ["🥇", "1st place medal", "gold first"],
  ["🐛", "bug", "insect"],
  ["🍕", "pizza", "food"],
  ["☕", "hot beverage", "coffee tea"],
  ["🍺", "beer mug", "beer drink"],
  ["🎂", "birthday cake", "birthday"],
  ["🎁", "wrapped gift", "present"],
  ["📌", "pushpin", "pin"],
  ["📎", "paperclip", "attachment"],
  ["🔗", "link", "chain url"],
  ["📝", "memo", "note write"],
  ["📅", "calendar", "date"],
  ["⏰", "alarm clock", "time"],
  ["⏳", "hourglass not done", "wait loading"],
  ["🔒", "locked", "lock secure"],
  ["🔑", "key", "password"],
  ["🛠️", "hammer and wrench", "tools fix"],
  ["🐢", "turtle", "slow"],
  ["🐶", "dog face", "dog puppy"],
  ["🐱", "cat face", "cat kitten"],
  ["🦄", "unicorn", "magic"],
  ["🌈", "rainbow", "pride"],
  ["☀️", "sun", "sunny weather"],
  ["🌧️", "cloud with rain", "rain weather"],
  ["❄️", "snowflake", "snow cold"],
  ["🍀", "four leaf clover", "luck"],
  ["🙈", "see-no-evil monkey", "monkey oops"],
  ["🤷", "person shrugging", "shrug dunno"],
  ["🤦", "person facepalming", "facepalm"],
  ["🆗", "ok button", "ok"],
  ["🆒", "cool button", "cool"],
];

const INDEX = EMOJI.map(([emoji, name, words]) => ({
  emoji,
  name,
  terms: `${name} ${words}`.toLowerCase(),
}));
const NAMES = new Map(INDEX.map(({ emoji, name }) => [emoji, name]));

/** The name to read out for `emoji` (its own character when the table does not know it). */
export function emojiName(emoji) {
  return NAMES.get(emoji) ?? emoji;
}

/**
 * Emoji whose name or words match every word of `query`, best first (a name that
 * starts with the query before one that only contains it); the common ones when
 * the query is blank.
 */
export function searchEmoji(query, limit = 40) {
  const words = String(query ?? "").toLowerCase().trim().split(/\s+/).filter(Boolean);
  if (!words.length) return COMMON.map((emoji) => ({ emoji, name: emojiName(emoji) }));
  const found = [];
  for (const entry of INDEX) {
    if (entry.emoji === query.trim()) return [{ emoji: entry.emoji, name: entry.name }];
    if (!words.every((word) => entry.terms.includes(word))) continue;
    const rank = entry.name.startsWith(words[0]) ? 0 : entry.terms.split(" ").includes(words[0]) ? 1 : 2;
    found.push({ rank, emoji: entry.emoji, name: entry.name });
  }
  found.sort((a, b) => a.rank - b.rank);
  return found.slice(0, limit).map(({ emoji, name }) => ({ emoji, name }));
}
