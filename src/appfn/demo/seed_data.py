"""The demo store's sample content: Saudi names in Arabic and English, cities, products."""

from __future__ import annotations

# (first name, its Latin spelling for the e-mail, gender)
ARABIC_FIRST = [
    ("محمد", "mohammed", "male"), ("عبدالله", "abdullah", "male"), ("فهد", "fahad", "male"),
    ("خالد", "khalid", "male"), ("سلطان", "sultan", "male"), ("عبدالرحمن", "abdulrahman", "male"),
    ("تركي", "turki", "male"), ("سعود", "saud", "male"), ("ناصر", "nasser", "male"), ("يوسف", "yousef", "male"),
    ("نورة", "noura", "female"), ("سارة", "sarah", "female"), ("ريم", "reem", "female"), ("لمى", "lama", "female"),
    ("هيفاء", "haifa", "female"), ("العنود", "alanoud", "female"), ("جواهر", "jawaher", "female"),
    ("منيرة", "munira", "female"), ("أمل", "amal", "female"), ("دانة", "dana", "female"),
]  # fmt: skip
ARABIC_LAST = [
    ("العتيبي", "alotaibi"), ("القحطاني", "alqahtani"), ("الشمري", "alshammari"), ("الدوسري", "aldosari"),
    ("الغامدي", "alghamdi"), ("الزهراني", "alzahrani"), ("الحربي", "alharbi"), ("المطيري", "almutairi"),
    ("العنزي", "alanazi"), ("السبيعي", "alsubaie"), ("الشهري", "alshehri"), ("البقمي", "albogami"),
]  # fmt: skip
ENGLISH_FIRST = [
    ("Omar", "male"), ("Faisal", "male"), ("Hassan", "male"), ("Ali", "male"), ("James", "male"), ("Ryan", "male"),
    ("Layla", "female"), ("Hind", "female"), ("Maryam", "female"), ("Emily", "female"), ("Sophia", "female"),
    ("Aisha", "female"),
]  # fmt: skip
ENGLISH_LAST = ["Al-Saud", "Al-Harthi", "Khan", "Al-Amoudi", "Smith", "Bakr", "Haddad", "Al-Rashid", "Nasser", "Walker"]
CITIES = ["الرياض", "جدة", "مكة المكرمة", "المدينة المنورة", "الدمام", "الخبر", "الطائف", "تبوك", "أبها", "بريدة"]
MOBILE_PREFIXES = ["50", "53", "54", "55", "56", "58", "59"]
USER_AGENTS = [
    ("mobile", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"),
    ("mobile", "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 Chrome/124.0 Mobile Safari/537.36"),
    ("desktop", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36"),
]

BRANDS = [
    ("نجد للقهوة", "Najd Coffee"), ("نخبة التمور", "Nukhba Dates"), ("عود الشرق", "Oud Al Sharq"),
    ("تقنية الرياض", "Riyadh Tech"), ("دار الثوب", "Thobe House"),
]  # fmt: skip
CATEGORIES = ["القهوة والشاي", "التمور", "العطور والبخور", "الأزياء", "الإلكترونيات"]

# (name, price SAR, category index, brand index, weight kg, stock)
PRODUCTS = [
    ("قهوة خولانية سعودية 500 جرام", 89.0, 0, 0, 0.5, 120), ("Saudi Khawlani Coffee Beans 1kg", 165.0, 0, 0, 1.0, 60),
    ("قهوة عربية بالهيل 250 جرام", 45.0, 0, 0, 0.25, 200), ("Arabic Coffee Dallah Set", 240.0, 0, 0, 2.0, 15),
    ("شاي أحمر فاخر 100 كيس", 32.0, 0, 0, 0.3, 150), ("Specialty Coffee V60 Kit", 199.0, 0, 3, 1.2, 25),
    ("تمر سكري فاخر 1 كجم", 75.0, 1, 1, 1.0, 90), ("Ajwa Dates Gift Box 500g", 120.0, 1, 1, 0.6, 40),
    ("تمر خلاص القصيم 3 كجم", 110.0, 1, 1, 3.0, 35), ("Medjool Dates Premium 1kg", 95.0, 1, 1, 1.0, 50),
    ("معمول بالتمر 24 قطعة", 55.0, 1, 1, 0.8, 70), ("Stuffed Dates Assortment", 145.0, 1, 1, 0.7, 6),
    ("عطر عود ملكي 100 مل", 350.0, 2, 2, 0.4, 30), ("Oud Cambodi Incense 50g", 280.0, 2, 2, 0.1, 20),
    ("بخور معطر 12 قطعة", 65.0, 2, 2, 0.2, 80), ("Musk Tahara Perfume Oil 12ml", 40.0, 2, 2, 0.05, 110),
    ("مبخرة كهربائية", 129.0, 2, 3, 0.9, 18), ("Rose Taif Perfume 50ml", 420.0, 2, 2, 0.3, 7),
    ("ثوب رجالي أبيض قطن", 185.0, 3, 4, 0.6, 45), ("Classic Black Abaya", 260.0, 3, 4, 0.7, 30),
    ("شماغ أحمر فاخر", 150.0, 3, 4, 0.3, 55), ("Embroidered Prayer Mat", 85.0, 3, 4, 0.8, 40),
    ("طرحة شيفون", 45.0, 3, 4, 0.1, 95), ("Men's Leather Sandals", 210.0, 3, 4, 0.9, 22),
    ("سماعة بلوتوث لاسلكية", 149.0, 4, 3, 0.2, 60), ("Power Bank 20000mAh", 119.0, 4, 3, 0.45, 75),
    ("شاحن سريع 65 واط", 99.0, 4, 3, 0.15, 85), ("Smart Watch Sport Edition", 499.0, 4, 3, 0.1, 12),
    ("حامل جوال للسيارة", 39.0, 4, 3, 0.2, 130), ("4K Action Camera", 699.0, 4, 3, 0.35, 8),
]  # fmt: skip
ORDER_STATUSES = ["under_review"] * 4 + ["in_progress"] * 4 + ["completed"] * 6 + ["delivered"] * 3 + [
    "payment_pending", "canceled", "shipped"]  # fmt: skip
PAYMENT_METHODS = ["cod", "cod", "mada", "credit_card", "apple_pay", "bank", "stc_pay"]
STREETS = ["طريق الملك عبدالعزيز", "شارع التحلية", "طريق الأمير سلطان", "شارع الأمير محمد بن عبدالعزيز"]
BLOCKS = ["النرجس", "الياسمين", "الروضة", "الشاطئ", "العزيزية", "الملقا"]
