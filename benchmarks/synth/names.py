"""Name and place pools by nationality, written for this generator.

Facts encoded here (each pool's comment says which convention it models):

* Thai (THA): given name then family name; family names are long compounds
  (Srisuk, Wongsawat), Thai-Chinese ones start with Sae (Saetang / Sae-tang).
  Everyone has a short nickname (Noi, Lek, Nok). Romanisation is unstable:
  Somchai / Somchay, Prasert / Prasoet, ph/p, th/t, ee/i.
* Khmer (KHM): family name first (Sok Dara); female names often start with
  Srey, written as one word or two (Sreymom / Srey Mom).
* Burmese (MMR): no family names. A name is one to three syllables
  (Aung Kyaw Moe), with an honorific by sex and age often prefixed: Ma / Daw
  for women, Mg (Maung) / Ko / U for men, Naw / Saw for Karen people.
  Reduplicated nicknames (Aye Aye, Mi Mi) are common.
* Vietnamese (VNM): family name first, then a middle name (Văn for men, Thị
  for women, or another), then the given name; registers drop diacritics.
* Indonesian (IDN): often a single name (Sukarti); old spelling oe/dj/tj
  (Soekarti, Djoko, Tjahjo); Batak and other family names for some.
* Filipino (PHL): given name(s), a middle name (mother's maiden surname),
  a surname; compound surnames vary (Dela Cruz / dela Cruz / Delacruz).
  Nicknames (Jun, Bong, Inday) are common. ``Ma.`` abbreviates Maria.
* Lao (LAO): given then family name, Lao script, French-era romanisations
  (Souk / Suk, x / s, ph / p); Nang / Thao as courtesy prefixes.
* Malaysian (MYS): Malay names have no family name but a patronymic
  (Nur Aisyah binti Ahmad; bin / b. / binti / bt); Chinese Malaysians write
  the family name first (Tan Wei Ming) and often have an English name.

Native-script spellings were written by hand from the romanised names; they
are plausible renderings, not an authority on spelling.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from synth.lexemes import Lexeme, compound, d, r, s

# ---------------------------------------------------------------- Thai (THA)

THA_GIVEN_M = (
    s("สมชาย", "Somchai", "Somchay", "Somshai"),
    s("สมศักดิ์", "Somsak", "Somsakdi", "Somsuk"),
    s("สมพงษ์", "Sompong", "Somphong", "Sompongs"),
    s("สมบัติ", "Sombat", "Sombut", "Sombath"),
    s("ประเสริฐ", "Prasert", "Prasoet", "Prasirt"),
    s("วิชัย", "Wichai", "Vichai", "Wichay"),
    s("สุชาติ", "Suchat", "Suchart", "Suchad"),
    s("ชัยวัฒน์", "Chaiwat", "Chaiwath", "Chaiyawat"),
    s("อนุชา", "Anucha", "Anuchar", "Anuchaa"),
    s("ธนากร", "Thanakorn", "Tanakorn", "Thanakon"),
    s("ณัฐพล", "Nattapon", "Natthaphon", "Nuttapol", "Nattaphol"),
    s("กิตติพงษ์", "Kittipong", "Kittiphong", "Kitipong"),
    s("ธีรวัฒน์", "Theerawat", "Thirawat", "Teerawat"),
    s("วีระพงษ์", "Weerapong", "Wiraphong", "Veerapong"),
    s("บุญมี", "Boonmee", "Bunmi", "Boonmi"),
    s("ประยุทธ", "Prayut", "Prayuth", "Prayoot"),
    s("สุริยา", "Suriya", "Sooriya", "Suriyaa"),
    s("อภิชาติ", "Apichat", "Aphichat", "Apichart"),
    s("ศักดิ์ชัย", "Sakchai", "Sakchay", "Sakdichai"),
    s("จักรพันธ์", "Jakkaphan", "Chakkaphan", "Jakkapan"),
    s("พงศกร", "Pongsakorn", "Phongsakon", "Pongsakon"),
    s("สุรเชษฐ์", "Surachet", "Surachate", "Surachest"),
    s("ทองใบ", "Thongbai", "Tongbai", "Thongbay"),
    s("เอกชัย", "Ekkachai", "Ekachai", "Aekkachai"),
    s("วันชัย", "Wanchai", "Vanchai", "Wanchay"),
    s("สมหมาย", "Sommai", "Sommay", "Sommaai"),
    s("บุญเลิศ", "Boonlert", "Bunloet", "Boonlerd"),
    s("ชาญวิทย์", "Chanwit", "Charnwit", "Chanvit"),
    s("สุวิทย์", "Suwit", "Suvit", "Suwith"),
    s("มานพ", "Manop", "Manob", "Maanop"),
)

THA_GIVEN_F = (
    s("สมหญิง", "Somying", "Som-ying", "Somyhing"),
    s("สุดา", "Suda", "Sudaa", "Sooda"),
    s("มาลี", "Malee", "Mali", "Malie"),
    s("นภา", "Napa", "Napha", "Naphaa"),
    s("วันเพ็ญ", "Wanpen", "Wanphen", "Vanpen"),
    s("สุภาพร", "Supaporn", "Suphaphon", "Supapon"),
    s("กาญจนา", "Kanchana", "Kanjana", "Karnchana"),
    s("จันทร์เพ็ญ", "Janpen", "Chanphen", "Junpen"),
    s("พรทิพย์", "Porntip", "Phonthip", "Porntib"),
    s("รัตนา", "Rattana", "Ratana", "Ruttana"),
    s("ศิริพร", "Siriporn", "Siriphon", "Siripon"),
    s("อรุณี", "Arunee", "Aruni", "Arunie"),
    s("ปราณี", "Pranee", "Prani", "Pranie"),
    s("บุญเรือน", "Boonruean", "Bunruean", "Boonruen"),
    s("นิตยา", "Nittaya", "Nitaya", "Nittayaa"),
    s("วิไล", "Wilai", "Vilai", "Wilay"),
    s("สมใจ", "Somjai", "Somjay", "Somchai"),
    s("อัมพร", "Amporn", "Amphon", "Ampon"),
    s("เพ็ญศรี", "Pensri", "Phensi", "Pensee"),
    s("ลำดวน", "Lamduan", "Lumduan", "Lamduen"),
    s("ดวงใจ", "Duangjai", "Duangchai", "Doungjai"),
    s("ศศิธร", "Sasithorn", "Sasitorn", "Sasithon"),
    s("ชนิดา", "Chanida", "Chaneeda", "Chanidaa"),
    s("ปิยะนุช", "Piyanuch", "Piyanut", "Piyanooch"),
    s("ณัฐธิดา", "Natthida", "Nattida", "Nuttida"),
    s("อรทัย", "Orathai", "Oratai", "Orathay"),
    s("ขวัญใจ", "Kwanjai", "Khwanchai", "Kwanchai"),
    s("จิราพร", "Jiraporn", "Chiraphon", "Jirapon"),
    s("สุนิสา", "Sunisa", "Suneesa", "Soonisa"),
    s("บัวผัน", "Buaphan", "Bouphan", "Buapan"),
)

# Thai family names are compounds; these parts combine into ~180 surnames.
_THA_SURNAME_HEAD = (
    s("ศรี", "Sri", "Si", "Sree"),
    s("แก้ว", "Kaew", "Kaeo", "Keaw"),
    s("ทอง", "Thong", "Tong"),
    s("บุญ", "Boon", "Bun"),
    s("วงศ์", "Wong", "Vong"),
    s("สุข", "Suk", "Sook"),
    s("จันทร์", "Chan", "Jan"),
    s("พรหม", "Phrom", "Prom"),
    s("เพชร", "Phet", "Petch", "Pet"),
    s("มั่น", "Man", "Mun"),
    s("ใจ", "Jai", "Chai"),
    s("ชัย", "Chai", "Chay"),
)
_THA_SURNAME_TAIL = (
    s("สวัสดิ์", "sawat", "sawad", "savat"),
    s("ดี", "dee", "di"),
    s("มา", "ma"),
    s("ทอง", "thong", "tong"),
    s("ชัย", "chai", "chay"),
    s("ศักดิ์", "sak", "sakdi"),
    s("วงศ์", "wong", "vong"),
    s("ประเสริฐ", "prasert", "prasoet"),
    s("สุข", "suk", "sook"),
    s("แก้ว", "kaew", "kaeo"),
    s("มณี", "manee", "mani"),
    s("ศรี", "sri", "si"),
    s("พันธ์", "phan", "pan"),
    s("รักษ์", "rak", "ruk"),
    s("เจริญ", "charoen", "jaroen", "charern"),
)
_THA_CLAN_SURNAMES = (
    # Thai-Chinese clan surnames: hyphen and space vary.
    s("แซ่ตั้ง", "Saetang", "Sae-tang", "Sae Tang"),
    s("แซ่ลิ้ม", "Saelim", "Sae-lim", "Sae Lim"),
    s("แซ่อึ้ง", "Saeung", "Sae-ung", "Sae Ueng"),
    s("แซ่เฮ้ง", "Saeheng", "Sae-heng", "Sae Heng"),
    s("แซ่โค้ว", "Saekhow", "Sae-khow", "Saekow"),
)
THA_FAMILY = (
    *(
        compound((head, tail))
        for head in _THA_SURNAME_HEAD
        for tail in _THA_SURNAME_TAIL
        if head.native != tail.native
    ),
    *_THA_CLAN_SURNAMES,
)

THA_NICK = (
    s("น้อย", "Noi", "Noy"),
    s("เล็ก", "Lek", "Leck"),
    s("นก", "Nok", "Nog"),
    s("แดง", "Daeng", "Dang", "Deang"),
    s("ดำ", "Dam", "Dum"),
    s("ต้อม", "Tom", "Tomm"),
    s("ปุ้ย", "Pui", "Puy"),
    s("อ้อย", "Oi", "Oy"),
    s("ปู", "Pu", "Poo"),
    s("แมว", "Maew", "Meow", "Maeo"),
    s("กุ้ง", "Kung", "Goong"),
    s("หนุ่ม", "Num", "Noom"),
    s("จอย", "Joy", "Joi"),
    s("พลอย", "Ploy", "Phloi"),
    s("ต่าย", "Tai", "Tay"),
    s("ส้ม", "Som", "Sohm"),
    s("เก่ง", "Keng", "Geng"),
    s("อ๊อด", "Od", "Ot"),
)

THA_TITLE_M = s("นาย", "Mr.", "Mr", "Nai")
THA_TITLE_MRS = s("นาง", "Mrs.", "Mrs", "Nang")
THA_TITLE_MISS = s("นางสาว", "Miss", "Ms.", "Nangsao")

THA_PLACES = (
    s("เชียงราย", "Chiang Rai", "Chiangrai", "Chieng Rai"),
    s("เชียงใหม่", "Chiang Mai", "Chiangmai", "Chiengmai"),
    s("อุดรธานี", "Udon Thani", "Udonthani", "Udon Tani"),
    s("ขอนแก่น", "Khon Kaen", "Khonkaen", "Khon Kean"),
    s("นครราชสีมา", "Nakhon Ratchasima", "Korat", "Nakhon Rachasima"),
    s("อุบลราชธานี", "Ubon Ratchathani", "Ubon", "Ubonratchathani"),
    s("ศรีสะเกษ", "Si Sa Ket", "Sisaket", "Srisaket"),
    s("บุรีรัมย์", "Buriram", "Buri Ram", "Burirum"),
    s("น่าน", "Nan", "Naan"),
    s("พะเยา", "Phayao", "Payao", "Phayau"),
    s("ตาก", "Tak", "Taak"),
    s("สกลนคร", "Sakon Nakhon", "Sakonnakhon", "Sakon Nakorn"),
    s("กาฬสินธุ์", "Kalasin", "Kalasinthu"),
    s("ร้อยเอ็ด", "Roi Et", "Roiet", "Roi-Et"),
)

# --------------------------------------------------------------- Khmer (KHM)

KHM_FAMILY = (
    s("សុខ", "Sok", "Sokh", "Sock"),
    s("ចាន់", "Chan", "Chann", "Chanh"),
    s("គីម", "Kim", "Kym"),
    s("កែវ", "Keo", "Kaev", "Keov"),
    s("ហេង", "Heng", "Hieng"),
    s("លី", "Ly", "Lee", "Li"),
    s("មាស", "Meas", "Mas", "Meah"),
    s("ជា", "Chea", "Chia"),
    s("ផាន់", "Phan", "Phann", "Pan"),
    s("សំ", "Sam", "Samm"),
    s("ទូច", "Touch", "Toch", "Tuch"),
    s("ប្រាក់", "Prak", "Prack"),
    s("យឹម", "Yim", "Yem"),
    s("ម៉ៅ", "Mao", "Mau"),
    s("អ៊ុក", "Ouk", "Uk", "Ook"),
    s("សេង", "Seng", "Sieng"),
    s("ហែម", "Hem", "Haem"),
    s("ឡុង", "Long", "Lorng"),
    s("ពេជ្រ", "Pich", "Pech", "Petch"),
    s("នួន", "Nuon", "Noun", "Nuan"),
    s("ស៊ុន", "Sun", "Soun", "Son"),
    s("វ៉ាន់", "Van", "Vann", "Vanh"),
)

KHM_GIVEN_M = (
    s("ដារ៉ា", "Dara", "Darra", "Dala"),
    s("សុភ័ក្រ", "Sopheak", "Sopheakh", "Sophak"),
    s("វិចិត្រ", "Vichet", "Vichhet", "Vicheth"),
    s("សុផល", "Sophal", "Sophall", "Sopal"),
    s("រតនា", "Rathana", "Ratana", "Rattana"),
    s("វណ្ណា", "Vanna", "Vana", "Wanna"),
    s("បូរ៉ា", "Bora", "Borra", "Boraa"),
    s("ពិសិដ្ឋ", "Piseth", "Piset", "Pisith"),
    s("សំណាង", "Samnang", "Sam Nang", "Somnang"),
    s("ធារិទ្ធ", "Thearith", "Tearith", "Thearit"),
    s("សុវណ្ណ", "Sovann", "Sovan", "Sowann"),
    s("មករា", "Makara", "Makkara", "Makarah"),
    s("វាសនា", "Veasna", "Veasnar", "Vasna"),
    s("កុសល", "Kosal", "Kossal", "Kosol"),
    s("រិទ្ធី", "Rithy", "Rithi", "Rity"),
    s("សុធា", "Sothea", "Sotheat", "Sothia"),
    s("វុទ្ធី", "Vuthy", "Vuthi", "Vutthy"),
    s("ឧត្តម", "Oudom", "Udom", "Oudam"),
    s("ចន្ថា", "Chantha", "Chanta", "Chanthar"),
)

KHM_GIVEN_F = (
    s("ស្រីមុំ", "Sreymom", "Srey Mom", "Sreymum"),
    s("ស្រីពៅ", "Sreypov", "Srey Pov", "Sreypeou"),
    s("ស្រីនិច", "Sreynich", "Srey Nich", "Sreynith"),
    s("ស្រីលក្ខណ៍", "Sreyleak", "Srey Leak", "Sreyleakh"),
    s("សុភា", "Sophea", "Sopha", "Sophear"),
    s("ចាន់ធី", "Chanthy", "Chanthi", "Chanty"),
    s("ធីតា", "Thida", "Thyda", "Tida"),
    s("ស្រីនាង", "Sreyneang", "Srey Neang", "Sreyneang"),
    s("បុប្ផា", "Bopha", "Bupha", "Boppha"),
    s("ចន្ទ្រា", "Chantrea", "Chandrea", "Chantria"),
    s("ស្រីអូន", "Sreyoun", "Srey Oun", "Sreyun"),
    s("លីដា", "Lida", "Leeda", "Lyda"),
    s("សុគន្ធា", "Sokunthea", "Sokhunthea", "Sokonthea"),
    s("រស្មី", "Reaksmey", "Raksmey", "Reaksmei"),
    s("ម៉ាលី", "Maly", "Mali", "Malee"),
    s("ណារី", "Nary", "Nari", "Narie"),
    s("ពិសី", "Pisey", "Pisei", "Pesey"),
    s("សុខា", "Sokha", "Sokhar", "Soka"),
    s("វណ្ណី", "Vanny", "Vanni", "Vany"),
)

KHM_PLACES = (
    s("បាត់ដំបង", "Battambang", "Batdambang", "Battambong"),
    s("សៀមរាប", "Siem Reap", "Siemreap", "Siem Riep"),
    s("បន្ទាយមានជ័យ", "Banteay Meanchey", "Banteay Mean Chey", "Banteay Meanchay"),
    s("ព្រៃវែង", "Prey Veng", "Preyveng", "Prey Vaeng"),
    s("កំពង់ចាម", "Kampong Cham", "Kompong Cham", "Kg Cham"),
    s("តាកែវ", "Takeo", "Takaev", "Ta Keo"),
    s("ស្វាយរៀង", "Svay Rieng", "Svayrieng", "Svay Reang"),
    s("ភ្នំពេញ", "Phnom Penh", "Phnompenh", "Pnom Penh"),
    s("កំពត", "Kampot", "Kompot"),
    s("ឧត្តរមានជ័យ", "Oddar Meanchey", "Otdar Meanchey", "Oddar Mean Chey"),
    s("ពោធិ៍សាត់", "Pursat", "Pouthisat", "Posat"),
)

# ------------------------------------------------------------- Burmese (MMR)

MMR_SYLL_M = (
    s("အောင်", "Aung", "Aong"),
    s("ကျော်", "Kyaw", "Kyau", "Jaw"),
    s("ဇော်", "Zaw", "Zaww", "Zo"),
    s("မင်း", "Min", "Minn"),
    s("ထက်", "Htet", "Htat", "Tet"),
    s("နိုင်", "Naing", "Nai", "Naign"),
    s("စိုး", "Soe", "So", "Soh"),
    s("ဝင်း", "Win", "Winn"),
    s("ထွန်း", "Tun", "Htun", "Tunn"),
    s("မြင့်", "Myint", "Myin", "Mint"),
    s("လှိုင်", "Hlaing", "Laing"),
    s("သိန်း", "Thein", "Thain", "Thane"),
    s("လွင်", "Lwin", "Lwinn"),
    s("ဖြိုး", "Phyo", "Pyo", "Phyoe"),
    s("ဟိန်း", "Hein", "Hain"),
    s("ပိုင်", "Paing", "Pine"),
    s("သန့်", "Thant", "Thunt", "Than"),
    s("ခန့်", "Khant", "Khan", "Kant"),
    s("ညီ", "Nyi", "Nyee", "Nyie"),
    s("ရဲ", "Ye", "Yeh", "Yay"),
    s("သူရ", "Thura", "Thu Ra", "Thurah"),
    s("ကောင်း", "Kaung", "Kaon"),
    s("ထူး", "Htoo", "Htu", "Tu"),
    s("မျိုး", "Myo", "Myoe", "Mio"),
    s("သက်", "Thet", "That", "Thett"),
    s("ဇင်", "Zin", "Zinn"),
)

MMR_SYLL_F = (
    s("အေး", "Aye", "Ay", "Aiy"),
    s("မြ", "Mya", "Mia", "Myar"),
    s("ခင်", "Khin", "Khinn", "Kin"),
    s("နှင်း", "Hnin", "Nin", "Hninn"),
    s("စု", "Su", "Soo", "Suu"),
    s("သီတာ", "Thida", "Thidar", "Theda"),
    s("ရတနာ", "Yadanar", "Yadana", "Yaddanar"),
    s("သန္တာ", "Thandar", "Thanda", "Thandah"),
    s("နီလာ", "Nilar", "Nila", "Nilah"),
    s("ဖြူ", "Phyu", "Pyu", "Phyuu"),
    s("မိုး", "Moe", "Mo", "Moh"),
    s("မြတ်", "Myat", "Myatt", "Miat"),
    s("အိ", "Ei", "Ai", "Eii"),
    s("နွယ်", "Nwe", "Nway", "Nwei"),
    s("ချို", "Cho", "Choe", "Chou"),
    s("စန္ဒာ", "Sandar", "Sanda", "Sandah"),
    s("မာ", "Mar", "Mah"),
    s("သူ", "Thu", "Thuu"),
    s("လှ", "Hla", "Hlaa", "La"),
    s("စန်း", "San", "Sann"),
    s("ယု", "Yu", "Yuu", "Yoo"),
    s("မေ", "May", "Mei", "Me"),
    s("လင်း", "Lin", "Linn"),
    s("ဇာ", "Zar", "Za", "Zaa"),
    s("ခိုင်", "Khaing", "Khine", "Kaing"),
    s("ဝတ်", "Wut", "Wutt", "Wat"),
    s("ရည်", "Yee", "Yi", "Yie"),
    s("ထွေး", "Htwe", "Htway", "Twe"),
    s("ကြည်", "Kyi", "Kyee", "Chi"),
)

MMR_MA = s("မ", "Ma", "Ma.")
MMR_DAW = s("ဒေါ်", "Daw", "Daw.")
MMR_MAUNG = s("မောင်", "Mg", "Maung", "Mg.")
MMR_KO = s("ကို", "Ko", "Koh")
MMR_U = s("ဦး", "U", "Oo")
MMR_NAW = s("နော်", "Naw", "Nor")
MMR_SAW = s("စော", "Saw", "Saw.")

MMR_PLACES = (
    s("ရန်ကုန်", "Yangon", "Rangoon", "Yangoon"),
    s("မန္တလေး", "Mandalay", "Mandalei", "Mandale"),
    s("မော်လမြိုင်", "Mawlamyine", "Moulmein", "Mawlamyaing"),
    s("ပဲခူး", "Bago", "Pegu", "Bagoo"),
    s("ရှမ်းပြည်နယ်", "Shan State", "Shan", "Shan St."),
    s("ကရင်ပြည်နယ်", "Kayin State", "Karen State", "Kayin"),
    s("ဧရာဝတီ", "Ayeyarwady", "Irrawaddy", "Ayeyarwaddy"),
    s("ထားဝယ်", "Dawei", "Tavoy", "Dawe"),
    s("မကွေး", "Magway", "Magwe", "Magwey"),
    s("စစ်ကိုင်း", "Sagaing", "Sagain", "Sagine"),
    s("မွန်ပြည်နယ်", "Mon State", "Mon"),
    s("ကော့သောင်း", "Kawthaung", "Kawthoung", "Victoria Point"),
)

# ----------------------------------------------------------------- Lao (LAO)

LAO_FAMILY = (
    s("ພົມມະວົງ", "Phommavong", "Phomavong", "Pommavong"),
    s("ສີສະຫວາດ", "Sisavath", "Sysavath", "Sisavat"),
    s("ແກ້ວມະນີ", "Keomany", "Kaewmany", "Keomani"),
    s("ວົງສາ", "Vongsa", "Wongsa", "Vongsar"),
    s("ອິນທະວົງ", "Inthavong", "Intavong", "Inthawong"),
    s("ພັນທະວົງ", "Phanthavong", "Panthavong", "Phanthavongsa"),
    s("ແສງດາລາ", "Sengdara", "Saengdara", "Sengdala"),
    s("ສຸວັນນະວົງ", "Souvannavong", "Suvannavong", "Souvanavong"),
    s("ຈັນທະວົງ", "Chanthavong", "Chantavong", "Jantavong"),
    s("ໄຊຍະວົງ", "Xayavong", "Sayavong", "Xaiyavong"),
    s("ແກ້ວວິໄລ", "Keovilay", "Kaewvilai", "Keovilai"),
    s("ບຸນມາ", "Bounma", "Bunma", "Bounmah"),
    s("ສີພັນດອນ", "Siphandone", "Siphandon", "Sipandone"),
    s("ພິລາວົງ", "Philavong", "Pilavong", "Phillavong"),
    s("ດວງມະນີ", "Douangmany", "Duangmany", "Doungmany"),
    s("ວົງພະຈັນ", "Vongphachanh", "Vongphachan", "Wongphachanh"),
)

LAO_GIVEN_M = (
    s("ສົມພອນ", "Somphone", "Sompone", "Somphon"),
    s("ບຸນມີ", "Bounmy", "Bunmi", "Bounmi"),
    s("ຄຳພອນ", "Khamphone", "Kamphone", "Khamphon"),
    s("ສຸກສະຫວັນ", "Souksavanh", "Suksavan", "Souksavan"),
    s("ທອງສະຫວັນ", "Thongsavanh", "Tongsavan", "Thongsavan"),
    s("ພອນສະຫວັນ", "Phonesavanh", "Phonsavan", "Ponesavanh"),
    s("ບຸນທະວີ", "Bounthavy", "Bounthavi", "Bunthavy"),
    s("ສີສຸກ", "Sisouk", "Sisuk", "Sysouk"),
    s("ຄຳສີ", "Khamsy", "Khamsi", "Kamsy"),
    s("ບົວພັນ", "Bouaphanh", "Buaphan", "Bouaphan"),
    s("ສົມສັກ", "Somsack", "Somsak", "Somsach"),
    s("ແສງທອງ", "Sengthong", "Saengthong", "Sengtong"),
)

LAO_GIVEN_F = (
    s("ມະນີວອນ", "Manivone", "Manivon", "Maniwon"),
    s("ຄຳແພງ", "Khampheng", "Kampheng", "Khamphaeng"),
    s("ວັນນາ", "Vanna", "Wanna", "Vannah"),
    s("ບົວໄຂ", "Bouakhay", "Buakhai", "Bouakhai"),
    s("ດາລາ", "Dala", "Dara", "Dalah"),
    s("ສີດາ", "Sida", "Sidah", "Syda"),
    s("ພອນທິບ", "Phonethip", "Phonthip", "Ponethip"),
    s("ແສງຈັນ", "Sengchanh", "Saengchan", "Sengchan"),
    s("ນິດຕະຍາ", "Nitaya", "Nittaya", "Nithaya"),
    s("ວິໄລພອນ", "Vilayphone", "Vilaiphone", "Wilaiphon"),
    s("ຄຳຫລ້າ", "Khamla", "Kamla", "Khamlar"),
    s("ສຸດາ", "Souda", "Suda", "Sudah"),
    s("ມະລີ", "Mali", "Maly", "Malee"),
)

LAO_NANG = s("ນາງ", "Nang", "Ms.")
LAO_THAO = s("ທ້າວ", "Thao", "Tao", "Mr.")

LAO_PLACES = (
    s("ສະຫວັນນະເຂດ", "Savannakhet", "Savannaketh", "Suvannakhet"),
    s("ຈຳປາສັກ", "Champasak", "Champassak", "Champasack"),
    s("ວຽງຈັນ", "Vientiane", "Viangchan", "Vientian"),
    s("ຫຼວງພະບາງ", "Luang Prabang", "Luang Phabang", "Louangphabang"),
    s("ບໍ່ແກ້ວ", "Bokeo", "Bo Keo", "Bokaew"),
    s("ຄຳມ່ວນ", "Khammouane", "Khammouan", "Khammuan"),
    s("ສາລະວັນ", "Salavan", "Saravane", "Saravan"),
    s("ອຸດົມໄຊ", "Oudomxay", "Oudomxai", "Udomxai"),
    s("ໄຊຍະບູລີ", "Xayaboury", "Sayabouri", "Xaignabouli"),
)

# ---------------------------------------------------------- Vietnamese (VNM)

VNM_FAMILY = (
    d("Nguyễn", "Nguyen"),
    d("Trần", "Tran"),
    d("Lê", "Le", "Lee"),
    d("Phạm", "Pham"),
    d("Hoàng", "Hoang", "Huang"),
    d("Phan"),
    d("Vũ", "Vu"),
    d("Võ", "Vo"),
    d("Đặng", "Dang", "Dhang"),
    d("Bùi", "Bui"),
    d("Đỗ", "Do", "Doh"),
    d("Hồ", "Ho"),
    d("Ngô", "Ngo"),
    d("Dương", "Duong", "Zuong"),
    d("Lý", "Ly", "Li"),
    d("Đinh", "Dinh"),
    d("Trương", "Truong"),
    d("Lương", "Luong"),
    d("Mai"),
    d("Cao"),
)
VNM_MIDDLE_M = d("Văn", "Van")
VNM_MIDDLE_F = d("Thị", "Thi")
VNM_MIDDLE_OTHER = (
    d("Minh"),
    d("Hữu", "Huu"),
    d("Đức", "Duc"),
    d("Ngọc", "Ngoc"),
    d("Thanh"),
    d("Quang"),
    d("Xuân", "Xuan"),
    d("Thu"),
    d("Hồng", "Hong"),
    d("Kim"),
)
VNM_GIVEN_M = (
    d("Hùng", "Hung"),
    d("Dũng", "Dung"),
    d("Tuấn", "Tuan"),
    d("Nam"),
    d("Long"),
    d("Hải", "Hai"),
    d("Sơn", "Son"),
    d("Thắng", "Thang"),
    d("Cường", "Cuong"),
    d("Hiếu", "Hieu"),
    d("Quân", "Quan"),
    d("Phúc", "Phuc"),
    d("Trung"),
    d("Khoa"),
    d("Tài", "Tai"),
    d("Bình", "Binh"),
    d("Huy"),
    d("Đạt", "Dat"),
    d("Vinh"),
    d("Toàn", "Toan"),
)
VNM_GIVEN_F = (
    d("Hương", "Huong"),
    d("Lan"),
    d("Mai"),
    d("Hoa"),
    d("Linh"),
    d("Trang"),
    d("Thảo", "Thao"),
    d("Ngọc", "Ngoc"),
    d("Hà", "Ha"),
    d("Nhung"),
    d("Thủy", "Thuy", "Thuey"),
    d("Hằng", "Hang"),
    d("Yến", "Yen"),
    d("Vy", "Vi"),
    d("Phương", "Phuong"),
    d("Dung"),
    d("Loan"),
    d("Tuyết", "Tuyet"),
    d("Nga"),
    d("Oanh"),
)

VNM_PLACES = (
    d("Nghệ An", "Nghe An", "Nghean"),
    d("Thanh Hóa", "Thanh Hoa", "Thanhhoa"),
    d("Hà Tĩnh", "Ha Tinh", "Hatinh"),
    d("Lào Cai", "Lao Cai", "Laocai"),
    d("Hà Giang", "Ha Giang", "Hagiang"),
    d("Điện Biên", "Dien Bien", "Dienbien"),
    d("Sơn La", "Son La", "Sonla"),
    d("Cần Thơ", "Can Tho", "Cantho"),
    d("An Giang", "An Giang", "Angiang"),
    d("Quảng Bình", "Quang Binh", "Quangbinh"),
    d("Lai Châu", "Lai Chau", "Laichau"),
)

# ---------------------------------------------------------- Indonesian (IDN)

IDN_GIVEN_F = (
    r("Sukarti", "Soekarti"),
    r("Suparmi", "Soeparmi"),
    r("Sumiati", "Soemiati", "Sumiyati"),
    r("Siti", "Sitti"),
    r("Dewi", "Dewie"),
    r("Sri", "Sry"),
    r("Wati", "Watie"),
    r("Nur", "Noer", "Nurr"),
    r("Yanti", "Yantie", "Janti"),
    r("Rina", "Rinah"),
    r("Ani", "Anie"),
    r("Tuti", "Toeti"),
    r("Suharti", "Soeharti"),
    r("Wahyuni", "Wahjoeni", "Wahyuningsih"),
    r("Lestari", "Lestarie"),
    r("Rahayu", "Rahajoe", "Rahayuu"),
    r("Kartini", "Kartinah"),
    r("Susanti", "Soesanti"),
    r("Purwanti", "Poerwanti"),
    r("Ningsih", "Ningsi"),
    r("Aminah", "Aminnah", "Amina"),
    r("Fatimah", "Fatima", "Patimah"),
    r("Darmi", "Darmie"),
    r("Ponirah", "Ponira"),
    r("Tukiyem", "Toekijem", "Tukiem"),
    r("Juminten", "Djoeminten", "Jumintem"),
)
IDN_GIVEN_M = (
    r("Agus", "Agoes"),
    r("Budi", "Boedi"),
    r("Slamet", "Selamet"),
    r("Joko", "Djoko", "Jocko"),
    r("Bambang", "Bambank"),
    r("Eko", "Ekko"),
    r("Sutrisno", "Soetrisno"),
    r("Hasan", "Hassan"),
    r("Yusuf", "Jusuf", "Yusup"),
    r("Ahmad", "Achmad", "Akhmad"),
    r("Cahyo", "Tjahjo", "Cahya"),
    r("Sujono", "Soejono", "Suyono"),
    r("Wagiman", "Wagimin"),
    r("Paijo", "Paidjo"),
    r("Rudi", "Roedi", "Rudy"),
    r("Hendra", "Hendrah"),
    r("Supriyadi", "Soeprijadi", "Supriadi"),
    r("Iwan", "Iwan"),
)
IDN_FAMILY = (
    r("Simanjuntak", "Simanjutak"),
    r("Siregar", "Siregaar"),
    r("Nainggolan", "Nainggolaan"),
    r("Manurung", "Manurong"),
    r("Sitompul", "Sitompoel"),
    r("Hutapea", "Hutapia"),
    r("Pasaribu", "Pasariboe"),
    r("Lubis", "Loebis"),
    r("Nasution", "Nasoetion"),
    r("Harahap", "Harahaap"),
    r("Wijaya", "Widjaja", "Wijaja"),
    r("Santoso", "Santosa", "Santoeso"),
    r("Gunawan", "Goenawan"),
    r("Setiawan", "Setyawan", "Setiyawan"),
    r("Kurniawan", "Koerniawan"),
)

IDN_PLACES = (
    r("Jawa Barat", "West Java", "Jabar"),
    r("Jawa Tengah", "Central Java", "Jateng"),
    r("Jawa Timur", "East Java", "Jatim"),
    r("Nusa Tenggara Timur", "NTT", "East Nusa Tenggara"),
    r("Nusa Tenggara Barat", "NTB", "West Nusa Tenggara"),
    r("Lampung", "Lampong"),
    r("Sumatera Utara", "North Sumatra", "Sumut"),
    r("Kalimantan Barat", "West Kalimantan", "Kalbar"),
    r("Indramayu", "Indramayo", "Kab. Indramayu"),
    r("Cianjur", "Tjiandjoer", "Cianjoer"),
    r("Sulawesi Selatan", "South Sulawesi", "Sulsel"),
)

# ------------------------------------------------------------ Filipino (PHL)

PHL_GIVEN_F = (
    r("Maria", "Ma.", "Ma"),
    r("Rosa", "Rossa"),
    r("Cristina", "Kristina", "Christina"),
    r("Jennifer", "Jenifer", "Jennefer"),
    r("Rowena", "Rowina"),
    r("Marites", "Maritess", "Marites"),
    r("Maricel", "Marisel", "Maricell"),
    r("Analyn", "Annalyn", "Analin"),
    r("Lorna", "Lorena"),
    r("Joy", "Joi"),
    r("Liza", "Lisa", "Lizza"),
    r("Cherry", "Cheri", "Cherrie"),
    r("Rhea", "Rea", "Ria"),
    r("Jocelyn", "Joselyn", "Jocelyne"),
    r("Aileen", "Eileen", "Ailene"),
    r("Marilou", "Mary Lou", "Marylou"),
    r("Girlie", "Girly"),
    r("Grace", "Grasya"),
    r("Luzviminda", "Luz Viminda", "Luzvi"),
)
PHL_GIVEN_M = (
    r("Juan", "Juan"),
    r("Jose", "Jose", "Josè"),
    r("Mark", "Marc"),
    r("John", "Jhon", "Jon"),
    r("Michael", "Micheal", "Mikael"),
    r("Jonathan", "Jonatan", "Johnathan"),
    r("Rodel", "Rodell"),
    r("Arnel", "Arnell"),
    r("Rommel", "Romel"),
    r("Jerome", "Jerom"),
    r("Romeo", "Romio"),
    r("Ronaldo", "Ronald", "Ronaldo"),
    r("Eduardo", "Edwardo", "Eduard"),
    r("Reynaldo", "Renaldo", "Reynald"),
    r("Noel", "Noelle"),
    r("Ariel", "Aryel"),
)
PHL_FAMILY = (
    r("Dela Cruz", "dela Cruz", "Delacruz", "De la Cruz"),
    r("Del Rosario", "del Rosario", "Delrosario"),
    r("De Guzman", "de Guzman", "Deguzman"),
    r("Delos Santos", "de los Santos", "Delossantos"),
    r("De Leon", "de Leon", "Deleon"),
    d("Dela Peña", "dela Pena", "Delapena"),
    r("Santos", "Santos"),
    r("Reyes", "Reys"),
    r("Cruz", "Cruz"),
    r("Bautista", "Bautista", "Batista"),
    r("Ocampo", "Ocampo"),
    r("Garcia", "Garsia"),
    r("Mendoza", "Mendosa"),
    r("Torres", "Tores"),
    r("Castillo", "Castilo"),
    r("Flores", "Florez"),
    r("Villanueva", "Villaneuva", "Vilanueva"),
    r("Ramos", "Ramos"),
    r("Aquino", "Aquino"),
    r("Navarro", "Navaro"),
    r("Mercado", "Mercado"),
    r("Gonzales", "Gonzalez"),
    r("Panganiban", "Pangnaiban"),
    r("Dimaculangan", "Dimakulangan"),
    r("Magbanua", "Magbanwa"),
    r("Manalo", "Manalo"),
    r("Pascual", "Pasqual"),
    r("Soriano", "Suriano"),
    r("Tolentino", "Tolentino"),
    r("Valdez", "Valdes"),
)
PHL_NICK = (
    r("Jun", "Junjun", "Jun-Jun"),
    r("Baby", "Bebe"),
    r("Bong", "Bongbong"),
    r("Neneng", "Nene"),
    r("Inday", "Inday"),
    r("Dodong", "Dong"),
    r("Nonoy", "Noy"),
    r("Tata", "Tatay"),
)

PHL_PLACES = (
    r("Cebu", "Cebu City", "Sugbo"),
    r("Samar", "Western Samar", "Samar Island"),
    r("Leyte", "Leite"),
    r("Maguindanao", "Maguindanaw"),
    r("Sulu", "Jolo"),
    r("Zamboanga", "Zamboanga City", "Zambo"),
    r("Davao", "Davao City", "Dabaw"),
    r("Negros Occidental", "Negros Occ.", "Neg. Occ."),
    r("Pampanga", "Pampangga"),
    r("Iloilo", "Ilo-ilo", "Iloilo City"),
    r("Bukidnon", "Bukidnun"),
    r("Quezon City", "QC", "Q.C."),
)

# ---------------------------------------------------------- Malaysian (MYS)

MYS_MALAY_GIVEN_M = (
    r("Muhammad", "Mohd", "Mohamad", "Muhamad", "Mohammad", "Md"),
    r("Ahmad", "Ahmed", "Amad"),
    r("Hafiz", "Hafidz", "Hafis"),
    r("Azman", "Azmann"),
    r("Faizal", "Faisal", "Faizul"),
    r("Rosli", "Roslee"),
    r("Zulkifli", "Zulkefli", "Zulkifly"),
    r("Amir", "Ameer"),
    r("Hakim", "Hakeem"),
    r("Syafiq", "Shafiq", "Safiq"),
    r("Aiman", "Aimann"),
    r("Firdaus", "Firdause"),
    r("Ismail", "Esmail", "Ismael"),
    r("Ibrahim", "Ibrahem"),
)
MYS_MALAY_GIVEN_F = (
    r("Nur", "Noor", "Nor"),
    r("Siti", "Sity"),
    r("Aisyah", "Aishah", "Aisha"),
    r("Farah", "Farrah"),
    r("Nurul", "Norul"),
    r("Hasnah", "Hasna"),
    r("Norhayati", "Nor Hayati", "Norhayatie"),
    r("Zaleha", "Zalehah"),
    r("Fatimah", "Fatimah", "Fatima"),
    r("Syazwani", "Shazwani"),
    r("Aqilah", "Akilah"),
    r("Nabila", "Nabilah"),
    r("Liyana", "Lyana"),
)
MYS_BIN = r("bin", "b.", "Bin")
MYS_BINTI = r("binti", "bt.", "binte", "Binti")
MYS_CHINESE_FAMILY = (
    r("Tan", "Tang"),
    r("Lim", "Lin"),
    r("Lee", "Li"),
    r("Ng", "Ng"),
    r("Wong", "Wang"),
    r("Chan", "Chen"),
    r("Ong", "Ung"),
    r("Goh", "Go"),
    r("Teh", "Tay", "Teo"),
    r("Chong", "Chung"),
    r("Low", "Lau"),
    r("Yap", "Yeap"),
    r("Koh", "Ko"),
    r("Cheah", "Chea"),
)
MYS_CHINESE_SYLL = (
    r("Wei", "Wai"),
    r("Ming", "Meng"),
    r("Mei", "May"),
    r("Ling", "Lin"),
    r("Kok", "Kock"),
    r("Siew", "Siu"),
    r("Hui", "Hwee"),
    r("Yee", "Yi"),
    r("Jun", "Chun"),
    r("Kah", "Ka"),
    r("Hock", "Hok"),
    r("Seng", "Sen"),
    r("Chee", "Chi"),
    r("Choon", "Chun"),
    r("Li", "Lee"),
)
MYS_ENGLISH = (
    r("Jason", "Jayson"),
    r("Michelle", "Michele"),
    r("Kelvin", "Kelvyn"),
    r("Jessica", "Jesica"),
    r("Alvin", "Alvyn"),
    r("Vivian", "Vivien"),
    r("Eric", "Erik"),
    r("Cindy", "Cindi"),
    r("Steven", "Stephen"),
    r("Joanne", "Joann"),
)

MYS_PLACES = (
    r("Kelantan", "Klantan"),
    r("Sabah", "Negeri Sabah"),
    r("Kedah", "Kedah Darul Aman"),
    r("Terengganu", "Trengganu"),
    r("Johor", "Johore"),
    r("Perak", "Perak Darul Ridzuan"),
    r("Pulau Pinang", "Penang", "P. Pinang"),
    r("Sarawak", "Serawak"),
    r("Selangor", "Slgr"),
)

# --------------------------------------------- incident locations (cases)

INCIDENT_PLACES = (
    s("สมุทรสาคร", "Samut Sakhon", "Mahachai", "Samutsakhon"),
    s("กรุงเทพมหานคร", "Bangkok", "Krung Thep", "BKK"),
    s("พัทยา", "Pattaya", "Phatthaya"),
    s("ระนอง", "Ranong", "Ranong Province"),
    s("แม่สอด", "Mae Sot", "Maesot", "Mae Sod"),
    s("ภูเก็ต", "Phuket", "Puket"),
    s("สงขลา", "Songkhla", "Songkla"),
    s("สมุทรปราการ", "Samut Prakan", "Samutprakarn", "Paknam"),
    s("เมียวดี", "Myawaddy", "Myawadi", "Shwe Kokko"),
    s("สีหนุวิลล์", "Sihanoukville", "Preah Sihanouk", "Kampong Som"),
    s("ปอยเปต", "Poipet", "Poi Pet"),
    s("สามเหลี่ยมทองคำ", "Golden Triangle SEZ", "Bokeo SEZ", "Ton Pheung"),
    r("Kuala Lumpur", "KL", "Kuala Lumpor"),
    r("Johor Bahru", "JB", "Johor Baru"),
    r("Kota Kinabalu", "KK", "Kota Kinabalu City"),
    r("Ho Chi Minh City", "Saigon", "HCMC"),
    r("Metro Manila", "Manila", "NCR"),
)


# ----------------------------------------------------------- slot layout

#: Number of given-name token slots per person (Burmese names have up to three).
GIVEN_SLOTS = 3
#: Number of family-name token slots (Malay patronymics use two: bin + father).
FAMILY_SLOTS = 2
#: Alias token slots (Burmese reduplicated nicknames use two).
ALIAS_SLOTS = 2


@dataclass(frozen=True)
class Lexicon:
    """All lexemes in flat arrays, so that rendering is numpy indexing.

    Lexeme 0 is the empty lexeme (every spelling ""), used for unused slots.

    Attributes:
        forms: (L, 1 + K) object array; column 0 is the native spelling (or
            the usual romanisation where none), columns 1.. the romanised
            variants, padded by repeating the usual one.
        n_roman: (L,) number of distinct romanised variants.
        has_native: (L,) whether column 0 differs from the romanisation.
        ids: id of each lexeme object (keyed by ``id()``).
    """

    forms: np.ndarray
    n_roman: np.ndarray
    has_native: np.ndarray
    ids: dict[int, int]

    @classmethod
    def build(cls, lexemes: Sequence[Lexeme]) -> Lexicon:
        """Index ``lexemes`` (duplicates by identity are indexed once)."""
        unique: list[Lexeme] = [Lexeme(roman=("",), native=None)]
        ids: dict[int, int] = {}
        for lexeme in lexemes:
            if id(lexeme) not in ids:
                ids[id(lexeme)] = len(unique)
                unique.append(lexeme)
        width = max(len(lex.roman) for lex in unique)
        forms = np.empty((len(unique), 1 + width), dtype=object)
        n_roman = np.zeros(len(unique), dtype=np.int8)
        has_native = np.zeros(len(unique), dtype=bool)
        for i, lex in enumerate(unique):
            romans = list(dict.fromkeys(lex.roman))
            n_roman[i] = len(romans)
            forms[i, 0] = lex.native if lex.native is not None else romans[0]
            has_native[i] = lex.native is not None
            for k in range(width):
                forms[i, 1 + k] = romans[k] if k < len(romans) else romans[0]
        return cls(forms=forms, n_roman=n_roman, has_native=has_native, ids=ids)

    def pool(self, lexemes: Sequence[Lexeme]) -> np.ndarray:
        """Return the lexeme ids of ``lexemes`` as an int32 array."""
        return np.array([self.ids[id(lex)] for lex in lexemes], dtype=np.int32)

    def id_of(self, lexeme: Lexeme) -> int:
        """Return the id of one lexeme."""
        return self.ids[id(lexeme)]


def _all_lexemes() -> list[Lexeme]:
    """Every lexeme defined in this module, in a fixed order."""
    found: list[Lexeme] = []
    for value in globals().values():
        if isinstance(value, Lexeme):
            found.append(value)
        elif isinstance(value, tuple) and value and isinstance(value[0], Lexeme):
            found.extend(value)
    return found


LEXICON = Lexicon.build(_all_lexemes())
