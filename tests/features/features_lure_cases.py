"""Realistic lure ads and hard negatives per language, shared by the lexicon tests.

POSITIVES: (lang, text, {indicator: substring that must lie inside one evidence span}).
NEGATIVES: (lang, label, text, indicators that must NOT fire).
"""

from __future__ import annotations

POSITIVES: list[tuple[str, str, dict[str, str]]] = [
    # ---------------------------------------------------------------- English
    (
        "en",
        "URGENT! Work in Europe for young girls aged 18-25. Earn up to €3000 per week, no experience "
        "needed, free accommodation and flights paid. Write only via WhatsApp. Registration fee 150 EUR.",
        {
            "vague_abroad": "Work in Europe",
            "appearance_requirements": "young girls",
            "unrealistic_pay": "Earn up to €3000 per week",
            "no_requirements": "no experience",
            "travel_housing_paid": "free accommodation",
            "messenger_contact": "only via WhatsApp",
            "upfront_fee": "Registration fee",
        },
    ),
    (
        "en",
        "work home earn 5000 weekly no experience required",
        {"unrealistic_pay": "earn 5000 weekly", "no_requirements": "no experience"},
    ),
    (
        "en",
        "Webcam model job, VIP clients, girls 16+ welcome, pocket money, don't tell your parents. "
        "Departure tomorrow, only 3 places left!",
        {
            "adult_adjacent_work": "VIP clients",
            "targets_minors": "pocket money",
            "urgency_secrecy": "don't tell",
        },
    ),
    (
        "en",
        "Hostess job in a night club abroad. Send your full-length photo, slim figure required. "
        "You must pay a refundable deposit for the visa.",
        {
            "adult_adjacent_work": "night club",
            "vague_abroad": "abroad",
            "appearance_requirements": "full-length photo",
            "upfront_fee": "refundable deposit",
        },
    ),
    # ---------------------------------------------------------------- Latvian
    (
        "lv",
        "Darbs Norvēģijā jaunām meitenēm 18-25 gadi! Pieredze nav nepieciešama, valodas zināšanas nav "
        "obligātas. Pelni līdz 3000 € mēnesī. Bezmaksas dzīvesvieta, ceļa izdevumi tiek apmaksāti. "
        "Reģistrācijas maksa 100 eur. Raksti tikai WhatsApp. Izbraukšana jau rīt!",
        {
            "appearance_requirements": "jaunām meitenēm",
            "no_requirements": "Pieredze nav nepieciešama",
            "unrealistic_pay": "Pelni līdz 3000",
            "travel_housing_paid": "Bezmaksas dzīvesvieta",
            "upfront_fee": "Reģistrācijas maksa",
            "messenger_contact": "tikai WhatsApp",
            "urgency_secrecy": "Izbraukšana jau rīt",
        },
    ),
    (
        "lv",
        "Darbs ārzemēs skolēniem no 16 gadiem, kabatas nauda, vecāku atļauja nav vajadzīga. Nestāsti "
        "nevienam! Sīkāka informācija pa telefonu.",
        {
            "vague_abroad": "Darbs ārzemēs",
            "targets_minors": "kabatas nauda",
            "urgency_secrecy": "Nestāsti nevienam",
        },
    ),
    (
        "lv",
        "Darbs naktsklubā Vācijā, VIP klienti, hostese. Vēlama pievilcīga āriene, sūti savu foto uz "
        "WhatsApp. Jāmaksā par dokumentiem 200 eur.",
        {
            "adult_adjacent_work": "VIP klienti",
            "appearance_requirements": "pievilcīga āriene",
            "messenger_contact": "sūti savu foto uz WhatsApp",
            "upfront_fee": "Jāmaksā par dokumentiem",
        },
    ),
    # ---------------------------------------------------------------- Lithuanian
    (
        "lt",
        "Darbas Norvegijoje jaunoms merginoms 18-25 metų! Patirtis nebūtina. Uždirbk iki 3000 € per "
        "mėnesį. Nemokamas apgyvendinimas, kelionė apmokama. Registracijos mokestis 100 eur. Rašykite "
        "tik per WhatsApp. Išvykimas jau rytoj, vietų skaičius ribotas!",
        {
            "appearance_requirements": "jaunoms merginoms",
            "no_requirements": "Patirtis nebūtina",
            "unrealistic_pay": "Uždirbk iki 3000",
            "travel_housing_paid": "Nemokamas apgyvendinimas",
            "upfront_fee": "Registracijos mokestis",
            "messenger_contact": "tik per WhatsApp",
            "urgency_secrecy": "vietų skaičius ribotas",
        },
    ),
    (
        "lt",
        "Darbas užsienyje moksleiviams nuo 16 metų, kišenpinigiai, tėvų sutikimo nereikia. Niekam "
        "nesakyk! Daugiau informacijos telefonu.",
        {
            "vague_abroad": "Darbas užsienyje",
            "targets_minors": "tėvų sutikimo nereikia",
            "urgency_secrecy": "Niekam",
        },
    ),
    (
        "lt",
        "Ieškome šokėjų naktiniame klube, VIP klientai. Patraukli išvaizda, atsiųskite viso ūgio "
        "nuotrauką. Reikia sumokėti už dokumentus.",
        {
            "adult_adjacent_work": "VIP klientai",
            "appearance_requirements": "Patraukli išvaizda",
            "upfront_fee": "Reikia sumokėti už dokumentus",
        },
    ),
    # ---------------------------------------------------------------- Finnish
    (
        "fi",
        "Töitä Norjassa nuorille tytöille, 18-25-vuotiaat! Kokemusta ei tarvita. Tienaa jopa 3000 € "
        "viikossa. Ilmainen majoitus, lennot maksetaan. Rekisteröintimaksu 100 euroa. Ota yhteyttä vain "
        "WhatsAppilla. Lähtö jo huomenna, rajoitettu määrä paikkoja!",
        {
            "appearance_requirements": "18-25-vuotiaat",
            "no_requirements": "Kokemusta ei tarvita",
            "unrealistic_pay": "Tienaa jopa 3000 € viikossa",
            "travel_housing_paid": "Ilmainen majoitus",
            "upfront_fee": "Rekisteröintimaksu",
            "messenger_contact": "vain WhatsAppilla",
            "urgency_secrecy": "Lähtö jo huomenna",
        },
    ),
    (
        "fi",
        "Töitä ulkomailla koululaisille 16-vuotiaille, taskurahaa, vanhempien lupaa ei tarvita. Älä "
        "kerro kenellekään! Lisätietoja puhelimitse.",
        {
            "vague_abroad": "Töitä ulkomailla",
            "targets_minors": "taskurahaa",
            "urgency_secrecy": "Älä kerro kenellekään",
        },
    ),
    (
        "fi",
        "Hostess-töitä yökerhossa, VIP-asiakkaita. Miellyttävä ulkonäkö, lähetä kokovartalokuva "
        "WhatsAppiin. Sinun täytyy maksaa viisumi itse.",
        {
            "adult_adjacent_work": "yökerhossa",
            "appearance_requirements": "Miellyttävä ulkonäkö",
            "upfront_fee": "täytyy maksaa viisumi",
        },
    ),
    # ---------------------------------------------------------------- Estonian
    (
        "et",
        "Töö Norras noortele tüdrukutele vanuses 18-25! Kogemus pole vajalik. Teeni kuni 3000 € kuus. "
        "Tasuta majutus, lennupiletid makstakse. Registreerimistasu 100 eurot. Kirjuta ainult WhatsAppi. "
        "Väljasõit juba homme, kohtade arv on piiratud!",
        {
            "appearance_requirements": "noortele tüdrukutele",
            "no_requirements": "Kogemus pole vajalik",
            "unrealistic_pay": "Teeni kuni 3000",
            "travel_housing_paid": "Tasuta majutus",
            "upfront_fee": "Registreerimistasu",
            "messenger_contact": "ainult WhatsAppi",
            "urgency_secrecy": "Väljasõit juba homme",
        },
    ),
    (
        "et",
        "Töö välismaal koolinoortele alates 16 aastast, taskuraha, vanemate luba pole vaja. Ära räägi "
        "kellelegi! Täpsem info telefonil.",
        {
            "vague_abroad": "Töö välismaal",
            "targets_minors": "taskuraha",
            "urgency_secrecy": "Ära räägi kellelegi",
        },
    ),
    (
        "et",
        "Otsime tantsijaid ööklubisse, VIP kliendid. Meeldiv välimus, saada täispikkuses foto. "
        "Tuleb ise maksta dokumentide eest.",
        {
            "adult_adjacent_work": "VIP kliendid",
            "appearance_requirements": "Meeldiv välimus",
            "upfront_fee": "Tuleb ise maksta dokumentide eest",
        },
    ),
    # ---------------------------------------------------------------- Polish
    (
        "pl",
        "Praca w Norwegii dla młodych dziewczyn 18-25 lat! Doświadczenie nie jest wymagane. Zarabiaj "
        "nawet 3000 euro tygodniowo. Darmowe zakwaterowanie, przelot opłacony. Opłata rejestracyjna "
        "400 zł. Kontakt tylko przez WhatsApp. Wyjazd już jutro, liczba miejsc ograniczona!",
        {
            "appearance_requirements": "młodych dziewczyn",
            "no_requirements": "Doświadczenie nie jest wymagane",
            "unrealistic_pay": "Zarabiaj nawet 3000 euro tygodniowo",
            "travel_housing_paid": "Darmowe zakwaterowanie",
            "upfront_fee": "Opłata rejestracyjna",
            "messenger_contact": "tylko przez WhatsApp",
            "urgency_secrecy": "Wyjazd już jutro",
        },
    ),
    (
        "pl",
        "Praca za granicą dla uczniów od 16 lat, kieszonkowe, zgoda rodziców nie jest potrzebna. Nie mów "
        "nikomu! Szczegóły telefonicznie.",
        {
            "vague_abroad": "Praca za granicą",
            "targets_minors": "zgoda rodziców nie jest potrzebna",
            "urgency_secrecy": "Nie mów nikomu",
        },
    ),
    (
        "pl",
        "Praca jako hostessa w klubie nocnym, zamożni klienci. Atrakcyjny wygląd, wyślij zdjęcie na "
        "WhatsApp. Musisz zapłacić za wizę 500 zł.",
        {
            "adult_adjacent_work": "klubie nocnym",
            "appearance_requirements": "Atrakcyjny wygląd",
            "upfront_fee": "Musisz zapłacić za wizę",
        },
    ),
    # ---------------------------------------------------------------- Russian
    (
        "ru",
        "Работа в Норвегии для молодых девушек 18-25 лет! Опыт не требуется. Зарабатывай до 3000 евро в "
        "неделю. Бесплатное жильё, перелёт оплачивается. Регистрационный взнос 100 евро. Пишите только в "
        "WhatsApp. Выезд уже завтра, количество мест ограничено!",
        {
            "appearance_requirements": "молодых девушек",
            "no_requirements": "Опыт не требуется",
            "unrealistic_pay": "Зарабатывай до 3000 евро в неделю",
            "travel_housing_paid": "Бесплатное жильё",
            "upfront_fee": "Регистрационный взнос",
            "messenger_contact": "только в WhatsApp",
            "urgency_secrecy": "Выезд уже завтра",
        },
    ),
    (
        "ru",
        "Работа за границей для школьников с 16 лет, карманные деньги, согласие родителей не нужно. "
        "Никому не говори! Подробности по телефону.",
        {
            "vague_abroad": "Работа за границей",
            "targets_minors": "карманные деньги",
            "urgency_secrecy": "Никому не говори",
        },
    ),
    (
        "ru",
        "Работа хостес в ночном клубе, VIP клиенты. Привлекательная внешность, присылайте фото в полный "
        "рост в личку. Необходимо оплатить оформление документов.",
        {
            "adult_adjacent_work": "ночном клубе",
            "appearance_requirements": "Привлекательная внешность",
            "messenger_contact": "в личку",
            "upfront_fee": "оплатить оформление документов",
        },
    ),
]

_SEASONAL = {
    "en": "Hillside Farms Ltd (company no. 01234567) offers seasonal strawberry picking work in Kent from "
    "1 June through EURES. Experience required. Pay £11.44 per hour, written contract. Contact: tel. "
    "+44 1622 123456, e-mail jobs@hillsidefarms.co.uk, WhatsApp +44 7700 900123, address: 5 Orchard Lane, "
    "Maidstone.",
    "lv": 'SIA "Zemnieku saimniecība Ābeles" (reģ. nr. 40003123456) piedāvā sezonas darbu zemeņu lasīšanā '
    "Dobeles novadā no 1. jūnija (EURES). Nepieciešama pieredze lauksaimniecībā. Alga 7 EUR stundā bruto, "
    "darba līgums. Kontakti: tālr. 63712345, e-pasts darbs@abeles.lv, WhatsApp +371 29123456, adrese: "
    "Lauku iela 5, Dobele.",
    "lt": "UAB „Ūkis“ (įm. k. 300123456) per EURES siūlo sezoninį darbą braškių skynime Kauno rajone nuo "
    "birželio 1 d. Reikalinga patirtis žemės ūkyje. Atlyginimas 7 EUR/val. bruto, darbo sutartis. "
    "Kontaktai: tel. 837 212345, el. paštas darbas@ukis.lt, WhatsApp +370 612 34567, adresas: Laukų g. 5.",
    "fi": "Marjatila Oy (Y-tunnus 1234567-8) tarjoaa EURES-kausityötä mansikanpoimijana Suonenjoella 1.6. "
    "alkaen. Edellytämme kokemusta maataloustöistä. Palkka 12 EUR/h brutto, työsopimus. Yhteystiedot: "
    "puh. 09 123 4567, sähköposti rekry@marjatila.fi, WhatsApp +358 40 123 4567, osoite: Peltotie 5.",
    "et": "OÜ Maasikas (registrikood 12345678) pakub EURES kaudu hooajatööd maasikakorjajana Tartumaal "
    "alates 1. juunist. Nõutav on kogemus põllumajanduses. Töötasu 7 EUR tunnis bruto, tööleping. "
    "Kontakt: tel 7 123 456, e-post too@maasikas.ee, WhatsApp +372 5123 4567, aadress: Põllu 5, Tartu.",
    "pl": "Gospodarstwo Sadownicze Jabłonka Sp. z o.o. (KRS 0000123456) zatrudni pracowników sezonowych "
    "do zbioru truskawek w gminie Grójec od 1 czerwca. Wymagane doświadczenie w rolnictwie. "
    "Wynagrodzenie 28 zł/h brutto, umowa o pracę. Kontakt: tel. 48 664 12 34, e-mail praca@jablonka.pl, "
    "WhatsApp +48 601 234 567, adres: ul. Sadowa 5, Grójec.",
    "ru": "ООО «Агрофирма Рассвет» (ИНН 7701234567) приглашает на сезонную работу по сбору клубники в "
    "Тверской области с 1 июня. Требуется опыт работы в сельском хозяйстве. Оплата 300 руб/час, трудовой "
    "договор. Контакты: тел. 8 (4822) 12-34-56, e-mail hr@rassvet-agro.ru, WhatsApp +7 912 345-67-89, "
    "адрес: ул. Полевая, 5, Тверь.",
}

_AGENCY = {
    "en": "Licensed recruitment agency (licence no. 12345). We do not charge any fees to candidates – "
    "our services are free for jobseekers. Relevant experience required.",
    "lv": "Licencēta personāla atlases aģentūra (licence Nr. 12). Mūsu pakalpojumi darba meklētājiem ir "
    "bezmaksas – mēs neņemam nekādu maksu no kandidātiem. Pieredze nepieciešama.",
    "lt": "Licencijuota įdarbinimo agentūra. Mūsų paslaugos darbo ieškantiems yra nemokamos – mes neimame "
    "jokių mokesčių iš kandidatų. Reikalinga patirtis.",
    "fi": "Luvanvarainen henkilöstöpalveluyritys. Palvelumme on työnhakijoille maksuton – emme peri "
    "hakijoilta mitään maksuja. Edellytämme kokemusta.",
    "et": "Litsentseeritud tööotsinguagentuur. Meie teenus on tööotsijale tasuta – me ei võta "
    "kandidaatidelt mingit tasu. Nõutav on kogemus.",
    "pl": "Agencja zatrudnienia wpisana do rejestru KRAZ nr 12345. Nie pobieramy żadnych opłat od "
    "kandydatów – nasze usługi są bezpłatne. Wymagane doświadczenie.",
    "ru": "Лицензированное кадровое агентство. Мы не берём никаких денег с соискателей – наши услуги "
    "бесплатны. Требуется опыт работы.",
}

_MODELLING = {
    "en": "Riverside Model Management is looking for fashion models for advertising campaigns. Our office: "
    "12 King Street, London. Tel. +44 20 7946 0958, info@riversidemodels.co.uk.",
    "lv": 'Modeļu aģentūra "Riga Models" meklē fotomodeles reklāmas kampaņām. Mūsu birojs: Brīvības iela '
    "100, Rīga. Tālr. 67123456, info@rigamodels.lv.",
    "lt": "Modelių agentūra „Vilnius Models“ ieško fotomodelių reklamos kampanijoms. Mūsų biuras: Gedimino "
    "pr. 10, Vilnius. Tel. 852 123456, info@vilniusmodels.lt.",
    "fi": "Mallitoimisto Helsinki Models etsii valokuvamalleja mainoskampanjoihin. Toimistomme: "
    "Mannerheimintie 10, Helsinki. Puh. 09 765 4321, info@helsinkimodels.fi.",
    "et": 'Modelliagentuur "Tallinn Models" otsib fotomodelle reklaamikampaaniateks. Meie kontor: Narva '
    "mnt 10, Tallinn. Tel 6 123 456, info@tallinnmodels.ee.",
    "pl": "Agencja modelek Warsaw Models poszukuje modelek do kampanii reklamowych. Nasze biuro: ul. "
    "Marszałkowska 10, Warszawa. Tel. 22 123 45 67, biuro@warsawmodels.pl.",
    "ru": "Модельное агентство «Moscow Models» ищет фотомоделей для рекламных кампаний. Наш офис: ул. "
    "Тверская, 10, Москва. Тел. +7 495 123-45-67, info@moscowmodels.ru.",
}

NEGATIVES: list[tuple[str, str, str, tuple[str, ...]]] = [
    *(
        (
            lang,
            "eures_seasonal",
            text,
            (
                "no_requirements",
                "upfront_fee",
                "messenger_contact",
                "unrealistic_pay",
                "targets_minors",
                "appearance_requirements",
                "adult_adjacent_work",
                "urgency_secrecy",
                "vague_abroad",
            ),
        )
        for lang, text in _SEASONAL.items()
    ),
    *(
        (lang, "licensed_agency_no_fees", text, ("upfront_fee", "no_requirements", "messenger_contact"))
        for lang, text in _AGENCY.items()
    ),
    *(
        (lang, "modelling_agency", text, ("adult_adjacent_work", "appearance_requirements", "targets_minors"))
        for lang, text in _MODELLING.items()
    ),
]

SEASONAL_ADS: dict[str, str] = _SEASONAL


# Parallel lure ads (same content in every language) and the indicators each must raise.
PARALLEL_LURES: list[tuple[str, str, tuple[str, ...]]] = [
    (
        "lt",
        (
            "Siūlome darbą Vokietijoje: alga iki 4000 eurų per mėnesį, darbo patirtis nereikalinga, "
            "nemokamas būstas ir kelionė. Skubiai! Registracijos mokestis tik 50 eurų. Rašyk į "
            "Telegram."
        ),
        (
            "messenger_contact",
            "no_requirements",
            "travel_housing_paid",
            "unrealistic_pay",
            "upfront_fee",
            "urgency_secrecy",
        ),
    ),
    (
        "lt",
        (
            "Ieškome merginų nuo 18 iki 25 metų, graži išvaizda, darbas užsienio klubuose su VIP "
            "klientais. Konfidencialumas garantuotas. Siųskite nuotraukas per Viber."
        ),
        ("adult_adjacent_work", "appearance_requirements", "messenger_contact", "urgency_secrecy"),
    ),
    (
        "lt",
        ("Darbas paaugliams nuo 15 metų, kišenės pinigai, tėvų leidimo nereikia, po pamokų."),
        ("targets_minors",),
    ),
    (
        "et",
        (
            "Pakume tööd Saksamaal: palk kuni 4000 eurot kuus, töökogemust ei nõuta, tasuta elamine ja "
            "sõit. Kiiresti! Registreerimistasu ainult 50 eurot. Kirjuta Telegrami."
        ),
        (
            "messenger_contact",
            "no_requirements",
            "travel_housing_paid",
            "unrealistic_pay",
            "upfront_fee",
            "urgency_secrecy",
        ),
    ),
    (
        "et",
        (
            "Otsime tüdrukuid vanuses 18-25, ilus välimus, töö välismaa klubides VIP klientidega. "
            "Konfidentsiaalsus tagatud. Saada pildid Viberisse."
        ),
        ("adult_adjacent_work", "appearance_requirements", "messenger_contact", "urgency_secrecy"),
    ),
    (
        "et",
        ("Töö teismelistele alates 15. eluaastast, taskuraha, vanemate nõusolekut pole vaja, pärast kooli."),
        ("targets_minors",),
    ),
    (
        "fi",
        (
            "Tarjoamme töitä Saksassa: palkka jopa 4000 euroa kuukaudessa, työkokemusta ei vaadita, "
            "ilmainen asunto ja matkat. Kiireellinen! Rekisteröintimaksu vain 50 euroa. Kirjoita "
            "Telegramiin."
        ),
        (
            "messenger_contact",
            "no_requirements",
            "travel_housing_paid",
            "unrealistic_pay",
            "upfront_fee",
            "urgency_secrecy",
        ),
    ),
    (
        "fi",
        (
            "Etsimme tyttöjä 18-25 v, kaunis ulkonäkö, työ ulkomaisissa klubeissa VIP-asiakkaiden "
            "kanssa. Luottamuksellisuus taattu. Lähetä kuvia Viberiin."
        ),
        ("adult_adjacent_work", "appearance_requirements", "messenger_contact", "urgency_secrecy"),
    ),
    (
        "fi",
        ("Työtä nuorille 15-vuotiaista alkaen, taskurahaa, ilman vanhempien lupaa, koulun jälkeen."),
        ("targets_minors",),
    ),
    (
        "lv",
        (
            "Piedāvājam darbu Vācijā: alga līdz 4000 eiro mēnesī, darba pieredze nav nepieciešama, "
            "bezmaksas dzīvoklis un ceļš. Steidzami! Reģistrācijas maksa tikai 50 eiro. Raksti "
            "Telegram."
        ),
        (
            "messenger_contact",
            "no_requirements",
            "travel_housing_paid",
            "unrealistic_pay",
            "upfront_fee",
            "urgency_secrecy",
        ),
    ),
    (
        "lv",
        (
            "Meklējam meitenes vecumā no 18 līdz 25 gadiem, skaista āriene, darbs ārzemju klubos ar VIP"
            " klientiem. Konfidencialitāte garantēta. Sūti bildes uz Viber."
        ),
        ("adult_adjacent_work", "appearance_requirements", "messenger_contact", "urgency_secrecy"),
    ),
    (
        "lv",
        ("Darbs pusaudžiem no 15 gadiem, kabatas nauda, bez vecāku atļaujas, pēc stundām."),
        ("targets_minors",),
    ),
    (
        "pl",
        (
            "Oferujemy pracę w Niemczech: zarobki do 4000 euro miesięcznie, doświadczenie niepotrzebne,"
            " darmowe mieszkanie i dojazd. Pilnie! Opłata rejestracyjna tylko 50 euro. Pisz na "
            "Telegram."
        ),
        (
            "messenger_contact",
            "no_requirements",
            "travel_housing_paid",
            "unrealistic_pay",
            "upfront_fee",
            "urgency_secrecy",
        ),
    ),
    (
        "pl",
        (
            "Szukamy dziewczyn w wieku 18-25 lat, ładny wygląd, praca w zagranicznych klubach z "
            "klientami VIP. Dyskrecja gwarantowana. Wyślij zdjęcia na Viber."
        ),
        ("adult_adjacent_work", "appearance_requirements", "messenger_contact", "urgency_secrecy"),
    ),
    (
        "pl",
        ("Praca dla nastolatków od 15 lat, kieszonkowe, bez zgody rodziców, po szkole."),
        ("targets_minors",),
    ),
    (
        "ru",
        (
            "Предлагаем работу в Германии: зарплата до 4000 евро в месяц, опыт работы не нужен, "
            "бесплатное жильё и дорога. Срочно! Регистрационный взнос всего 50 евро. Пиши в Телеграм."
        ),
        (
            "messenger_contact",
            "no_requirements",
            "travel_housing_paid",
            "unrealistic_pay",
            "upfront_fee",
            "urgency_secrecy",
        ),
    ),
    (
        "ru",
        (
            "Ищем девушек в возрасте 18-25 лет, красивая внешность, работа в зарубежных клубах с VIP "
            "клиентами. Конфиденциальность гарантирована. Отправляй фото в Вайбер."
        ),
        ("adult_adjacent_work", "appearance_requirements", "messenger_contact", "urgency_secrecy"),
    ),
    (
        "ru",
        ("Работа для подростков с 15 лет, карманные деньги, без согласия родителей, после уроков."),
        ("targets_minors",),
    ),
    (
        "en",
        (
            "We offer work in Germany: salary up to 4000 euro per month, no work experience needed, "
            "free flat and travel. Urgent! Registration fee only 50 euro. Write on Telegram."
        ),
        (
            "messenger_contact",
            "no_requirements",
            "travel_housing_paid",
            "unrealistic_pay",
            "upfront_fee",
            "urgency_secrecy",
        ),
    ),
    (
        "en",
        (
            "Looking for girls aged 18-25, beautiful appearance, work in foreign clubs with VIP "
            "clients. Confidentiality guaranteed. Send pictures to Viber."
        ),
        ("adult_adjacent_work", "appearance_requirements", "messenger_contact", "urgency_secrecy"),
    ),
    (
        "en",
        ("Job for teenagers from 15 years old, pocket money, without parents permission, after school."),
        ("targets_minors",),
    ),
]

# Ordinary legitimate job ads: no lure evidence at all.
LEGIT_ADS: list[tuple[str, str]] = [
    (
        "en",
        (
            "We are looking for a Senior Python Developer to join our team in Riga. Requirements: 5+ "
            "years of experience, fluent English. We offer competitive salary, health insurance, "
            "flexible working hours and remote work options. Send your CV to careers@techcorp.lv."
        ),
    ),
    (
        "en",
        (
            "customer service representative full time benefits 401k dental insurance paid time off "
            "requirements high school diploma 2 years experience customer service apply online"
        ),
    ),
    (
        "en",
        (
            "Warehouse operative needed in Manchester. Day and night shifts, £11.50 per hour, overtime "
            "available. Must be able to lift 25kg. Training provided. Apply via our website "
            "www.logistics-uk.co.uk/careers."
        ),
    ),
    (
        "lv",
        (
            'SIA "Loģistika" meklē noliktavas darbinieku Rīgā. Prasības: vidējā izglītība, atbildība. '
            "Piedāvājam: stabilu atalgojumu 1200-1500 EUR bruto, veselības apdrošināšanu, apmācības. CV"
            " sūtīt uz cv@logistika.lv."
        ),
    ),
    (
        "lt",
        (
            "UAB „Transportas“ ieško vairuotojo C kategorijai. Reikalavimai: C kategorijos vairuotojo "
            "pažymėjimas, 2 metų patirtis. Siūlome: atlyginimą nuo 1500 EUR, darbo sutartį. CV siųskite"
            " el. paštu cv@transportas.lt."
        ),
    ),
    (
        "fi",
        (
            "Etsimme myyjää Helsingin myymäläämme. Vaatimukset: asiakaspalvelukokemus, suomen kielen "
            "taito. Tarjoamme työsopimuksen, koulutuksen ja työterveyshuollon. Hae osoitteessa "
            "www.kauppa.fi/ura."
        ),
    ),
    (
        "et",
        (
            "Otsime laotöötajat Tallinna. Nõuded: kohusetundlikkus, eesti keele oskus. Pakume: palk "
            "alates 1300 eurot bruto, tööleping, koolitus. CV saata aadressil cv@ladu.ee."
        ),
    ),
    (
        "pl",
        (
            "Firma XYZ Sp. z o.o. zatrudni magazyniera w Poznaniu. Wymagania: uprawnienia na wózek "
            "widłowy, doświadczenie min. 1 rok. Oferujemy: umowę o pracę, wynagrodzenie 5500 zł brutto,"
            " prywatną opiekę medyczną. CV prosimy przesyłać na adres rekrutacja@xyz.pl."
        ),
    ),
    (
        "ru",
        (
            "Компания «Логистик» приглашает кладовщика в Санкт-Петербург. Требования: опыт работы от 1 "
            "года, ответственность. Мы предлагаем: официальное трудоустройство, зарплату от 60 000 "
            "рублей, ДМС. Резюме отправляйте на hr@logistik.ru."
        ),
    ),
]

# Employer-pays / EU-countries / no-requirements phrasings (indicators each line must raise).
PHRASES: list[tuple[str, str, tuple[str, ...]]] = [
    ("en", "Flights at the employer's expense, jobs in EU countries.", ("travel_housing_paid", "vague_abroad")),
    (
        "lv",
        "Dzīvesvieta par darba devēja līdzekļiem, ceļš par brīvu, darbs ES valstīs, nekādu prasību.",
        ("no_requirements", "travel_housing_paid", "vague_abroad"),
    ),
    (
        "lt",
        "Kelionė darbdavio sąskaita, gyvenamoji vieta suteikiama, darbas ES šalyse, jokių reikalavimų.",
        ("no_requirements", "travel_housing_paid", "vague_abroad"),
    ),
    (
        "fi",
        "Matkat työnantajan kustannuksella, majoitus hoidetaan, töitä EU maissa.",
        ("travel_housing_paid", "vague_abroad"),
    ),
    ("et", "Sõit tööandja kulul, töö Euroopa riikides.", ("travel_housing_paid", "vague_abroad")),
    (
        "pl",
        "Przejazd na koszt pracodawcy, zwrot kosztów podróży, praca w krajach UE, brak wymagań.",
        ("no_requirements", "travel_housing_paid", "vague_abroad"),
    ),
    (
        "ru",
        "Проезд за счёт работодателя, компенсация билетов, работа в странах ЕС, без требований.",
        ("no_requirements", "travel_housing_paid", "vague_abroad"),
    ),
]
