//! The rules deadlines are counted by and the violations flagged: each with its
//! article, its published text where verified, its version and what Vigía does with it
//! ([`LegalText`]), and the periods the law sets.

use jiff::civil::Date;
use serde::Serialize;

use crate::account::Locale;

/// Which rule produced a deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleId {
    Detention36h,
    DetentionMax,
    AsylumFiling,
    ComarDecision,
    Appeal,
    AmparoAnyTime,
}

/// The legal text behind a rule, as the rules page shows it: the article, its words as
/// published where they were verified (Spanish), otherwise a summary that says it is
/// one, the version of the text, what Vigía does with it, and what the text leaves open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LegalText {
    pub article: &'static str,
    pub quote: Option<&'static str>,
    pub summary_es: &'static str,
    pub summary_en: &'static str,
    pub version_es: &'static str,
    pub version_en: &'static str,
    pub does_es: &'static str,
    pub does_en: &'static str,
    pub open_es: Option<&'static str>,
    pub open_en: Option<&'static str>,
}

impl LegalText {
    pub fn summary(&self, l: Locale) -> &'static str {
        pick(l, self.summary_es, self.summary_en)
    }
    pub fn version(&self, l: Locale) -> &'static str {
        pick(l, self.version_es, self.version_en)
    }
    pub fn does(&self, l: Locale) -> &'static str {
        pick(l, self.does_es, self.does_en)
    }
    pub fn open(&self, l: Locale) -> Option<&'static str> {
        match l {
            Locale::Es => self.open_es,
            Locale::En => self.open_en,
        }
    }
}

fn pick(l: Locale, es: &'static str, en: &'static str) -> &'static str {
    match l {
        Locale::Es => es,
        Locale::En => en,
    }
}

/// Working days LM art. 111 allows without a ground, and with a ground I–IV.
pub const DETENTION_DAYS: u32 = 15;
pub const DETENTION_DAYS_EXTENDED: u32 = 60;
/// LRPCAP art. 18: days to file for asylum after entering the country.
pub const ASYLUM_FILING_DAYS: u32 = 30;
/// LRPCAP art. 24: days for COMAR to decide; an extension adds "un período igual".
pub const COMAR_DECISION_DAYS: u32 = 45;
/// LRPCAP art. 25: days to file the review appeal after notification.
pub const APPEAL_DAYS: u32 = 15;
/// The advocacy threshold of Constitution art. 21 as AR 388/2022 reads it, in hours.
pub const THRESHOLD_HOURS: u32 = 36;

const LRPCAP_VERSION_ES: &str = "texto vigente de la Ley (expedida en 2011 como Ley sobre Refugiados y Protección Complementaria); la fecha de la última reforma de este artículo no se verificó aquí";
const LRPCAP_VERSION_EN: &str = "current text of the Law (enacted in 2011 as the Law on Refugees and Complementary Protection); the date of this article's last reform was not verified here";

impl RuleId {
    pub const ALL: [RuleId; 6] = [
        RuleId::Detention36h,
        RuleId::DetentionMax,
        RuleId::AsylumFiling,
        RuleId::ComarDecision,
        RuleId::Appeal,
        RuleId::AmparoAnyTime,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RuleId::Detention36h => "detention_36h",
            RuleId::DetentionMax => "detention_max",
            RuleId::AsylumFiling => "asylum_filing",
            RuleId::ComarDecision => "comar_decision",
            RuleId::Appeal => "appeal",
            RuleId::AmparoAnyTime => "amparo_any_time",
        }
    }

    /// The article, its text and version, and what Vigía does with it.
    pub fn text(self) -> LegalText {
        match self {
            RuleId::Detention36h => LegalText {
                article: "Constitución art. 21; SCJN AR 388/2022",
                quote: None,
                summary_es: "La Suprema Corte, al resolver el amparo en revisión 388/2022 (15-03-2023), concedió el amparo contra los arts. 97–99 de la Ley de Migración y las porciones «15» y «60 días hábiles» del art. 111, con efectos solo para quienes lo promovieron; su razonamiento vincula la detención administrativa al límite de 36 horas del art. 21 constitucional.",
                summary_en: "The Supreme Court, deciding amparo en revisión 388/2022 (15-03-2023), granted amparo against arts. 97–99 of the Migration Law and the «15» and «60 working days» portions of art. 111, with effects only for those who brought it; its reasoning ties administrative detention to the 36-hour limit of Constitution art. 21.",
                version_es: "sentencia del 15-03-2023; no es un plazo legal de aplicación general",
                version_en: "judgment of 15-03-2023; not a statutory limit of general application",
                does_es: "Muestra 36 horas desde la hora de la detención (medianoche si no se registró la hora) como umbral de incidencia, junto a los límites legales; no genera recordatorios.",
                does_en: "Shows 36 hours from the time of detention (midnight when no time was recorded) as an advocacy threshold beside the statutory limits; it raises no reminders.",
                open_es: Some("Los efectos de la sentencia son relativos: los plazos del art. 111 siguen en la ley para las demás personas."),
                open_en: Some("The judgment's effects are relative: the art. 111 limits remain in the law for everyone else."),
            },
            RuleId::DetentionMax => LegalText {
                article: "Ley de Migración art. 111",
                quote: Some("… no podrá exceder de 60 días hábiles."),
                summary_es: "El INM resuelve la situación migratoria de la persona presentada en un plazo de 15 días hábiles desde la presentación. La detención puede exceder 15 días hábiles solo si: I no hay información fehaciente sobre identidad o nacionalidad, o es difícil obtener documentos de identidad y viaje; II el consulado requiere más tiempo para expedirlos; III hay impedimento para transitar por terceros países o fijar el itinerario al destino final; IV una enfermedad o discapacidad acreditada médicamente impide viajar; V hay un recurso administrativo o judicial sobre la situación migratoria, o un amparo que prohíbe expresamente trasladar a la persona o que salga del país. Para I–IV, la detención no podrá exceder de 60 días hábiles; para V el texto no fija fin. (Resumen; solo la frase entre comillas es cita.)",
                summary_en: "The INM resolves the migration status of a person presented within 15 working days of presentation. Detention may exceed 15 working days only when: I there is no reliable information on identity or nationality, or identity and travel documents are hard to obtain; II the consulate needs more time to issue them; III transit through third countries or setting the itinerary to the final destination is impeded; IV a medically accredited illness or disability makes travel impossible; V an administrative or judicial remedy about the migration status is pending, or an amparo expressly forbids moving the person or letting them leave the country. For I–IV detention may not exceed 60 working days; for V the text sets no end. (A summary; only the words in quotation marks are quoted.)",
                version_es: "art. 111 según la reforma publicada en el DOF el 12-07-2018",
                version_en: "art. 111 as reformed in the DOF of 12-07-2018",
                does_es: "Cuenta 15 días hábiles (calendario del INM) desde la presentación; 60 si se registra una causal I–IV; ninguna fecha de fin con la causal V. Un traslado no reinicia el plazo; una nueva detención tras la liberación abre otro. Pasado el límite, lo marca como violación.",
                does_en: "Counts 15 working days (INM calendar) from presentation; 60 when a ground I–IV is recorded; no end date with ground V. A transfer does not restart it; a new detention after release starts another. Past the limit, it flags a violation.",
                open_es: None,
                open_en: None,
            },
            RuleId::AsylumFiling => LegalText {
                article: "LRPCAP art. 18",
                quote: None,
                summary_es: "La solicitud de la condición de refugiado se presenta dentro de los 30 días hábiles siguientes al ingreso al país, o a que fue posible presentarla; se admite fuera de plazo si el retraso se justifica. (Resumen, no es cita textual.)",
                summary_en: "The application for refugee status is filed within 30 working days of entering the country, or of when filing became possible; a late filing is admitted when the delay is justified. (A summary, not a quotation.)",
                version_es: LRPCAP_VERSION_ES,
                version_en: LRPCAP_VERSION_EN,
                does_es: "Cuenta 30 días hábiles (calendario de la COMAR) desde el último ingreso registrado; se cumple con la solicitud de asilo.",
                does_en: "Counts 30 working days (COMAR calendar) from the last recorded entry; a request for asylum meets it.",
                open_es: Some("El plazo también puede correr desde que fue posible presentar la solicitud; Vigía solo conoce la fecha de ingreso registrada."),
                open_en: Some("The time limit may also run from when filing became possible; Vigía only knows the recorded entry date."),
            },
            RuleId::ComarDecision => LegalText {
                article: "LRPCAP art. 24",
                quote: Some("… hasta por un período igual …"),
                summary_es: "La COMAR resuelve dentro de 45 días hábiles contados a partir del día siguiente a la solicitud; puede ampliar el plazo «hasta por un período igual» solo por las causas que el artículo enumera (falta de información, falta de traductor, salud, pruebas que ofrece la persona solicitante, fuerza mayor). (Resumen; solo la frase entre comillas es cita.)",
                summary_en: "COMAR decides within 45 working days counted from the day after the application; it may extend the period «hasta por un período igual» (by up to an equal period) only on the grounds the article lists (missing information, no translator, health, evidence the applicant offers, force majeure). (A summary; only the words in quotation marks are quoted.)",
                version_es: LRPCAP_VERSION_ES,
                version_en: LRPCAP_VERSION_EN,
                does_es: "Cuenta 45 días hábiles (calendario de la COMAR) a partir del día siguiente a la solicitud, aunque la COMAR registre la admisión después; 90 si se registra una ampliación. Se cumple con la resolución.",
                does_en: "Counts 45 working days (COMAR calendar) from the day after the request, even when COMAR records the admission later; 90 when an extension is recorded. A decision meets it.",
                open_es: Some("Durante la COVID-19 la COMAR suspendió sus plazos por acuerdos publicados en el DOF: regístrelos como periodos declarados del calendario de la COMAR."),
                open_en: Some("During COVID-19 COMAR suspended its time limits by agreements published in the DOF: record them as declared periods on the COMAR calendar."),
            },
            RuleId::Appeal => LegalText {
                article: "LRPCAP art. 25",
                quote: None,
                summary_es: "Si la resolución es negativa, la persona puede interponer el recurso de revisión dentro de los 15 días hábiles siguientes a su notificación. (Resumen, no es cita textual.)",
                summary_en: "If the decision is negative, the person may file the review appeal within 15 working days of its notification. (A summary, not a quotation.)",
                version_es: LRPCAP_VERSION_ES,
                version_en: LRPCAP_VERSION_EN,
                does_es: "Cuenta 15 días hábiles (calendario de la COMAR) desde la fecha registrada de una resolución que no reconoce la condición de refugiado; se cumple con el recurso.",
                does_en: "Counts 15 working days (COMAR calendar) from the recorded date of a decision that does not recognize refugee status; an appeal meets it.",
                open_es: Some("El plazo corre desde la notificación: registre la fecha en que se notificó, no la de la firma."),
                open_en: Some("The time limit runs from notification: record the date it was notified, not the date it was signed."),
            },
            RuleId::AmparoAnyTime => LegalText {
                article: "Ley de Amparo art. 17 fr. IV; art. 20",
                quote: Some("… en cualquier tiempo … (art. 17 fr. IV); … en cualquier día y hora … (art. 20)"),
                summary_es: "Contra ataques a la libertad personal fuera de procedimiento, incomunicación, deportación o expulsión, la demanda de amparo no tiene plazo: puede presentarse en cualquier tiempo, y en cualquier día y hora. (Resumen; solo las frases entre comillas son cita.)",
                summary_en: "Against attacks on personal liberty outside a procedure, incommunicado detention, deportation or expulsion, an amparo claim has no time limit: it may be filed at any time, on any day and at any hour. (A summary; only the words in quotation marks are quoted.)",
                version_es: "Ley de Amparo publicada en el DOF el 02-04-2013; la fecha de la última reforma de estos artículos no se verificó aquí",
                version_en: "Amparo Law published in the DOF on 02-04-2013; the date of these articles' last reform was not verified here",
                does_es: "En un caso con una deportación o devolución registrada, muestra «sin plazo» donde estaría el plazo del amparo; nunca calcula una fecha límite para ese amparo.",
                does_en: "On a case with a recorded deportation or forced return, shows «no time limit» where the amparo's deadline would be; it never computes a deadline for that amparo.",
                open_es: Some("Para otros actos el plazo general del art. 17 es de 15 días; Vigía no lo calcula por caso."),
                open_en: Some("For other acts art. 17's general time limit is 15 days; Vigía does not compute it per case."),
            },
        }
    }

    /// The calendar the rule counts on (`None`: counted in hours).
    pub fn calendar(self) -> Option<&'static str> {
        match self {
            RuleId::Detention36h | RuleId::AmparoAnyTime => None,
            RuleId::DetentionMax => Some("inm"),
            RuleId::AsylumFiling | RuleId::ComarDecision | RuleId::Appeal => Some("comar"),
        }
    }

    pub fn basis(self, l: Locale) -> &'static str {
        match (self, l) {
            (RuleId::Detention36h, Locale::Es) => {
                "Constitución art. 21; SCJN AR 388/2022 (umbral de incidencia, no plazo legal vigente)"
            }
            (RuleId::Detention36h, Locale::En) => {
                "Constitution art. 21; SCJN AR 388/2022 (advocacy threshold, not a statutory limit in force)"
            }
            (RuleId::DetentionMax, Locale::Es) => "Ley de Migración art. 111 (15 días hábiles; 60 con causal I–IV)",
            (RuleId::DetentionMax, Locale::En) => "Migration Law art. 111 (15 working days; 60 with a ground I–IV)",
            (RuleId::AsylumFiling, Locale::Es) => "LRPCAP art. 18 (30 días hábiles desde el ingreso)",
            (RuleId::AsylumFiling, Locale::En) => "LRPCAP art. 18 (30 working days from entry)",
            (RuleId::ComarDecision, Locale::Es) => "LRPCAP art. 24 (45 días hábiles; ampliable «hasta por un período igual» solo por las causas que enumera)",
            (RuleId::ComarDecision, Locale::En) => "LRPCAP art. 24 (45 working days; extendable «hasta por un período igual» only on the grounds it lists)",
            (RuleId::Appeal, Locale::Es) => "LRPCAP art. 25 (recurso de revisión, 15 días hábiles)",
            (RuleId::Appeal, Locale::En) => "LRPCAP art. 25 (review appeal, 15 working days)",
            (RuleId::AmparoAnyTime, Locale::Es) => {
                "Ley de Amparo art. 17 fr. IV y art. 20 (contra la deportación: en cualquier tiempo, cualquier día y hora)"
            }
            (RuleId::AmparoAnyTime, Locale::En) => {
                "Amparo Law art. 17 fr. IV and art. 20 (against deportation: at any time, any day and hour)"
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ViolationKind {
    ChildDetained,
    HeldPastLimit,
    HeldPast36Hours,
    PossibleRefoulement,
}

/// The published text of LRPCAP art. 6 (non-refoulement).
pub const ART_6_LRPCAP: &str = "Ningún solicitante o refugiado podrá en modo alguno ser rechazado en frontera o devuelto de cualquier forma al territorio de otro país donde su vida peligre por los motivos señalados en el artículo 13 de esta Ley, o en donde existan razones fundadas para considerar que estaría en peligro de ser sometido a tortura u otros tratos o penas crueles, inhumanos o degradantes.";

/// The published sentence of LM art. 99 on children (reform DOF 11-11-2020).
pub const ART_99_LM: &str = "En ningún caso, el Instituto presentará ni alojará a niñas, niños o adolescentes migrantes en estaciones migratorias ni en lugares habilitados para ello.";

/// The date from which LM art. 99 (reform DOF 11-11-2020) forbids detaining children.
pub const ART_99_IN_FORCE: Date = jiff::civil::date(2021, 1, 11);

impl ViolationKind {
    pub const ALL: [ViolationKind; 4] = [
        ViolationKind::ChildDetained,
        ViolationKind::HeldPastLimit,
        ViolationKind::HeldPast36Hours,
        ViolationKind::PossibleRefoulement,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ViolationKind::ChildDetained => "child_detained",
            ViolationKind::HeldPastLimit => "held_past_limit",
            ViolationKind::HeldPast36Hours => "held_past_36_hours",
            ViolationKind::PossibleRefoulement => "possible_refoulement",
        }
    }

    /// The article, its text and version, and what Vigía does with it.
    pub fn text(self) -> LegalText {
        match self {
            ViolationKind::ChildDetained => LegalText {
                article: "Ley de Migración art. 99; antes, Reglamento de la LGDNNA (2015)",
                quote: Some(ART_99_LM),
                summary_es: "Desde el 11-01-2021 la ley prohíbe presentar o alojar a niñas, niños y adolescentes migrantes en estaciones migratorias; la LRPCAP art. 20 (misma reforma) dice lo mismo para quienes solicitan asilo. Antes, la prohibición venía del Reglamento de la Ley General de los Derechos de Niñas, Niños y Adolescentes (2015).",
                summary_en: "From 11-01-2021 the law forbids presenting or holding migrant children and adolescents in migration stations; LRPCAP art. 20 (same reform) says the same for asylum seekers. Before, the ban came from the Regulation of the General Law on the Rights of Children and Adolescents (2015).",
                version_es: "art. 99 según la reforma publicada en el DOF el 11-11-2020, en vigor el 11-01-2021",
                version_en: "art. 99 as reformed in the DOF of 11-11-2020, in force on 11-01-2021",
                does_es: "Toda detención de una persona marcada como menor de edad es una violación desde el primer día, con el fundamento vigente en esa fecha; avisa mientras sigue detenida.",
                does_en: "Every detention of a person marked as a minor is a violation from the first day, with the basis in force on that date; it alerts while the detention goes on.",
                open_es: Some("El número de artículo del Reglamento de la LGDNNA no está verificado: se cita el Reglamento sin número."),
                open_en: Some("The article number in the LGDNNA Regulation is not verified: the Regulation is cited without a number."),
            },
            ViolationKind::HeldPastLimit => LegalText { does_es: "Pasado el límite del art. 111 sin liberación ni deportación, marca la violación desde el día siguiente y avisa mientras la detención sigue.", does_en: "Past the art. 111 limit with no release or deportation, flags the violation from the next day and alerts while detention goes on.", open_es: None, open_en: None, ..RuleId::DetentionMax.text() },
            ViolationKind::HeldPast36Hours => RuleId::Detention36h.text(),
            ViolationKind::PossibleRefoulement => LegalText {
                article: "LRPCAP art. 6",
                quote: Some(ART_6_LRPCAP),
                summary_es: "Nadie que solicite asilo o sea refugiado puede ser devuelto de cualquier forma a un país donde su vida peligre o corra riesgo de tortura o tratos crueles.",
                summary_en: "No asylum seeker or refugee may be returned in any way to a country where their life is in danger or they risk torture or cruel treatment.",
                version_es: LRPCAP_VERSION_ES,
                version_en: LRPCAP_VERSION_EN,
                does_es: "Una deportación o devolución registrada mientras la solicitud de asilo está pendiente (sin resolución, dentro del plazo del recurso de revisión, o con un recurso presentado después de la negativa y sin resolver) o después de reconocida la condición de refugiado o concedida la protección complementaria se marca como posible devolución prohibida. El orden de los hechos es el de Vigía: fecha, hora y, el mismo día sin hora, la solicitud antes que la devolución. Avisa una vez si la devolución es de los últimos 30 días, cuenta en las cifras de casos y muestra al lado las presiones para desistir registradas.",
                does_en: "A deportation or forced return recorded while the asylum claim is pending (no decision, inside the review-appeal window, or an appeal filed after the refusal and not decided) or after refugee status was recognized or complementary protection granted is flagged as a possible refoulement. Events are ordered as everywhere in Vigía: date, time and, on the same day without a time, the request before the return. It alerts once when the return is from the last 30 days, counts in case figures, and shows the recorded pressure to abandon beside it.",
                open_es: Some("«Posible»: el riesgo en el país de destino no lo decide Vigía; el registro señala los hechos para que un abogado lo valore. La protección complementaria consiste en no devolver a la persona a un país donde su vida peligra o corre riesgo de tortura (LRPCAP; Senado de la República, boletín 515 sobre la aprobación de la Ley, diciembre de 2010); el número de su artículo no se cita aquí porque no se verificó."),
                open_en: Some("«Possible»: Vigía does not decide the risk in the country of return; the record points at the facts for a lawyer to weigh. Complementary protection consists of not returning the person to a country where their life is in danger or they risk torture (LRPCAP; Senate of the Republic, bulletin 515 on the Law's approval, December 2010); its article number is not cited here because it was not verified."),
            },
        }
    }
}
