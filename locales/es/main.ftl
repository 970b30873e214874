app-name = Vigía
app-tagline = Registro de acceso y condiciones en estaciones migratorias
lang-name = Español
lang-switch = Cambiar idioma
nav-facilities = Centros de detención
nav-audit = Historial de cambios
nav-logout = Cerrar sesión
nav-login = Iniciar sesión
nav-skip = Ir al contenido
signed-in-as = Sesión de { $name } ({ $org }, { $role })

role-admin = administración
role-coordinator = coordinación
role-monitor = monitoreo
role-lawyer = abogacía
role-analyst = análisis

login-title = Iniciar sesión
login-email = Correo electrónico
login-password = Contraseña
login-submit = Entrar
login-failed = El correo o la contraseña no son correctos.
login-locked = Demasiados intentos fallidos. Espera { $minutes } minutos e inténtalo de nuevo.
logged-out = Cerraste la sesión.

facilities-title = Centros de detención
facilities-intro = Registro compartido de estaciones migratorias y estancias provisionales. Lo pueden leer todas las organizaciones; cada cambio queda en el historial.
facilities-new = Registrar un centro
facilities-empty = Todavía no hay centros registrados.
facilities-count = { $count ->
    [one] 1 centro
   *[other] { $count } centros
}
facility-new-title = Registrar un centro de detención
facility-edit-title = Corregir «{ $name }»
facility-save = Guardar
facility-saved = Se guardó la versión { $version }.
facility-created = Centro registrado.
facility-history = Historial
facility-edit = Corregir
facility-notes = Notas privadas de tu organización
facility-notes-help = Cifradas en la base de datos. Solo las ven las personas de tu organización con acceso a datos personales.
facility-notes-empty = Tu organización no tiene notas sobre este centro.
facility-note-add = Agregar nota
facility-note-saved = Nota guardada y cifrada.
facility-notes-hidden = Tu rol no da acceso a las notas privadas.
facility-version = Versión { $version }
facility-unknown = Sin dato
facility-open = En operación
facility-closed = Cerrado desde { $date }
form-errors = Revisa los campos marcados: { $count ->
    [one] hay 1 error.
   *[other] hay { $count } errores.
}
form-optional = opcional
form-conflict = Alguien guardó otra versión mientras editabas. Revisa los datos actuales y vuelve a guardar.

field-name = Nombre
field-kind = Tipo
field-authority = Autoridad que lo opera
field-state_code = Entidad federativa
field-municipality = Municipio
field-latitude = Latitud
field-longitude = Longitud
field-capacity = Capacidad oficial
field-capacity-hint = Como la publica la autoridad. Déjalo vacío si no se conoce: nunca se estima.
field-opened_on = Fecha de apertura
field-closed_on = Fecha de cierre
field-sources = Fuentes
field-sources-hint = Una por línea: documento, nota de prensa o dirección web.
field-body = Nota
field-status = Estado
field-choose = Elige una opción

kind-estacion_migratoria = Estación migratoria
kind-estancia_provisional_a = Estancia provisional tipo A (hasta 48 horas)
kind-estancia_provisional_b = Estancia provisional tipo B (hasta 7 días)
kind-other = Otro

history-title = Historial de «{ $name }»
history-intro = Cada versión guardada, con quién la guardó y cuándo. Nada se borra: las correcciones son versiones nuevas.
history-when = Cuándo (UTC)
history-who = Quién
history-action = Acción
history-changes = Cambios
history-hash = Huella (SHA-256)
history-system = Sistema
action-create = alta
action-update = corrección
action-disable = baja
action-enable = reactivación
action-set_locale = cambio de idioma
action-rewrap = reenvoltura de llave

audit-title = Historial de cambios de tu organización
audit-intro = Cadena de registros a prueba de alteraciones: cada entrada guarda la huella de la anterior.
audit-seq = N.º
audit-record = Registro

error-title = Algo no salió bien
error-not-found = No encontramos esa página o ese registro.
error-forbidden = Tu rol no permite esta acción.
error-bad-request = La solicitud no es válida: { $reason }
error-csrf = El formulario caducó o no vino de esta página. Vuelve a cargarla e inténtalo otra vez.
error-internal = Ocurrió un error interno. Quedó registrado; inténtalo de nuevo más tarde.
error-too-large = El envío es demasiado grande.
error-unauthorized = Necesitas iniciar sesión.
error-conflict = Conflicto: { $what }
error-back = Volver al inicio

err-required = Este campo es obligatorio.
err-unknown_field = Este campo no existe.
err-expected_text = Debe ser texto.
err-expected_integer = Debe ser un número entero.
err-expected_number = Debe ser un número.
err-expected_date = Debe ser una fecha válida con la forma AAAA-MM-DD.
err-expected_boolean = Debe ser sí o no.
err-expected_object = El cuerpo debe ser un objeto JSON.
err-out_of_range = Debe estar entre { $min } y { $max }.
err-too_long = Es demasiado largo: como máximo { $max } caracteres.
err-control_characters = Contiene caracteres de control no permitidos.
err-unknown_choice = No es una de las opciones.
err-unknown_state = No es una clave de entidad del INEGI (01 a 32).
err-coordinates_incomplete = Indica latitud y longitud juntas.
err-before_opened = No puede ser anterior a la fecha de apertura.
err-invalid_email = No es un correo electrónico válido.
err-password_too_short = Debe tener al menos { $min } caracteres.
err-password_common = Es una contraseña demasiado común.
err-invalid_slug = Usa de 2 a 40 letras minúsculas, números o guiones.
err-invalid_json = No es JSON válido.
err-unknown_column = Columna desconocida.
err-missing_column = Falta esta columna.
err-wrong_column_count = La fila no tiene el número de columnas del encabezado.
err-invalid_utf8 = La fila no está en UTF-8.
err-invalid_csv = El archivo no es un CSV válido.
err-duplicate_row = Repite la fila { $line }.
err-too_many_rows = Demasiadas filas: como máximo { $max }.

import-title = Importar centros desde CSV
import-intro = Se revisan todas las filas: si alguna tiene un error no se importa ninguna, y cada error se señala con su línea y su columna.
import-file = Archivo CSV (UTF-8, separado por comas)
import-columns = Encabezado con las columnas: name, kind, state_code (obligatorias) y authority, municipality, latitude, longitude, capacity, opened_on, closed_on, sources.
import-submit = Importar
import-done = Se importaron { $count } centros.
import-rejected = No se importó nada: { $count ->
    [one] hay 1 problema.
   *[other] hay { $count } problemas.
}
import-line = Línea
import-column = Columna
import-reason = Motivo

nav-users = Personas
users-title = Personas de tu organización
users-add = Agregar persona
users-name = Nombre
users-role = Rol
users-password = Contraseña inicial
users-password-hint = Al menos { $min } caracteres; compártela por un canal seguro.
users-added = Se agregó a { $email }.
users-changed = Cambio guardado.
users-active = Activa
users-disabled = Dada de baja
users-disable = Dar de baja
users-enable = Reactivar
users-not-self = no puedes darte de baja a ti misma
err-email_taken = Ya hay una cuenta con este correo.

nav-clock = Plazos
clock-title = Calcular un plazo en días hábiles
clock-intro = El conteo empieza el día hábil siguiente al hecho que lo detona. Cada día que no cuenta muestra su motivo y su fundamento legal.
clock-from = Fecha del hecho
clock-working-days = Días hábiles
clock-calendar = Calendario
clock-submit = Calcular
clock-result = { $n } días hábiles después del { $from }: { $date }
clock-counts = cuenta ({ $n })
clock-day = Día
clock-why = ¿Cuenta?

nav-access = Acceso
access-title = Intentos de acceso
access-intro = Cada intento de entrar a un centro de detención: lo que se pidió, lo que respondió la autoridad y las restricciones. Se comparten con la coalición salvo que tu organización los marque como privados.
access-new = Registrar un intento
access-empty = No hay intentos que coincidan.
access-count = { $count ->
    [one] 1 intento
   *[other] { $count } intentos
}
access-new-title = Registrar un intento de acceso
access-edit-title = Corregir el intento del { $when }
access-show-title = { $facility }, { $when }
access-created = Intento registrado.
access-saved = Se guardó la versión { $version }.
access-readonly = Registrado por { $org } y compartido con tu coalición: puedes verlo, no corregirlo.
access-filter = Filtrar
access-any = Todos
access-org = Organización
field-facility_id = Centro
field-attempted_at = Fecha y hora del intento
field-attempted_at-hint = Hora local del centro.
field-requested_at = Fecha y hora de la solicitud
field-purpose = Propósito
field-team_size = Personas en el equipo
field-people_to_see = Personas detenidas que se buscaba ver
field-outcome = Resultado
field-reason_category = Motivo dado
field-reason_text = Lo que dijo la autoridad
field-official = Funcionario que respondió (nombre o cargo)
field-restrictions = Restricciones
field-notes = Notas
field-visibility = ¿Quién lo ve?
field-from = Desde
field-until = Hasta
purpose-legal_assistance = Asesoría legal
purpose-monitoring = Monitoreo
purpose-religious = Religioso
purpose-humanitarian = Humanitario
purpose-medical = Médico
purpose-other = Otro
outcome-granted = Permitido
outcome-partially_granted = Permitido en parte
outcome-denied = Negado
outcome-delayed = Demorado
outcome-no_response = Sin respuesta
outcome-cancelled_by_authority = Cancelado por la autoridad
reason-orders_from_above = Órdenes superiores
reason-no_authorization_on_file = Sin autorización registrada
reason-capacity = Cupo
reason-health_measures = Medidas sanitarias
reason-none_given = Sin motivo
reason-other = Otro
restriction-no_phones = Sin teléfonos
restriction-time_limit = Límite de tiempo
restriction-areas_closed = Áreas cerradas
restriction-no_private_interview = Sin entrevista privada
restriction-searched = Revisión corporal
restriction-other = Otra
visibility-coalition = Mi organización y la coalición
visibility-private = Solo mi organización
err-expected_datetime = Debe ser una fecha y hora válidas (AAAA-MM-DD HH:MM).
err-in_future = No puede estar en el futuro.
err-too_early = No puede ser anterior a { $min }.
err-after_attempt = La solicitud no puede ser posterior al intento.
err-unknown_facility = No hay un centro registrado con ese dato.

nav-analysis = Análisis
analysis-title = Análisis del acceso
analysis-summary = Sobre { $count } intentos que tu organización puede ver.
analysis-refusals = Cuentan como rechazo: negado, sin respuesta y cancelado por la autoridad.
analysis-episodes = Posibles suspensiones generales
analysis-method = Se marca una ventana de { $days } días cuando al menos { $facilities } centros rechazan mucho más que su propia línea base de 180 días, a al menos { $orgs } organizaciones, y el total de rechazos es improbable si nada cambió (prueba exacta Poisson-binomial, p < { $alpha }).
analysis-no-episodes = No se detectó ninguna en este periodo.
analysis-span = Periodo
analysis-counts = Rechazos
analysis-episode-counts = { $refusals } de { $attempts } intentos (se esperaban { $expected })
analysis-by-facility = Por centro
analysis-by-org = Por organización
analysis-by-month = Por mes
analysis-attempts = Intentos
analysis-refused = Rechazos
analysis-rate = Tasa de rechazo

access-files = Evidencia
access-files-empty = Sin archivos.
access-file-upload = Adjuntar foto, PDF o audio
access-file-hint = Hasta 10 MiB. Se guarda con su huella SHA-256, que queda en el historial.
access-file-submit = Adjuntar
access-file-attached = Archivo adjuntado; su huella quedó en el historial.
err-file_too_large = El archivo es demasiado grande: como máximo { $max } MiB.
err-file_type = Solo se aceptan fotos (JPEG, PNG, WebP), PDF y audio (MP3, OGG, M4A, WAV).

analysis-status = Estado actual del acceso
analysis-last = Último intento
analysis-recent = Últimos resultados

nav-alerts = Alertas
nav-webhooks = Webhooks
alerts-title = Alertas
alerts-intro = Rechazos de acceso registrados por tu organización o compartidos por la coalición, y posibles suspensiones generales.
alerts-empty = No hay alertas.
alerts-mark-read = Marcar como leída
alerts-refusal = { $facility }: { $outcome }
alerts-refusal-detail = Registrado por { $org }; intento del { $when }.
alerts-episode = Posible suspensión general del { $start } al { $end }
alerts-episode-detail = { $refusals } rechazos en { $attempts } intentos, { $orgs } organizaciones; centros: { $facilities }.
webhooks-title = Webhooks
webhooks-intro = Cada alerta de tu organización se envía a estas direcciones como JSON firmado (HMAC-SHA256 de «marca de tiempo.cuerpo» en X-Vigia-Signature). Si falla, se reintenta con espera creciente; nada se pierde si el servidor se reinicia.
webhooks-url = Dirección (https://…)
webhooks-add = Registrar webhook
webhooks-secret = Secreto para verificar las firmas (se muestra solo esta vez):
webhooks-log = Registro de envíos
webhooks-attempts = Intentos
webhooks-answer = Última respuesta
delivery-pending = pendiente
delivery-delivered = entregado
delivery-failed = fallido
err-invalid_url = Debe ser una dirección http:// o https:// completa.
